"""The Benchmark page's retrieval task over a collection (``embedlab index``): its documents and vectors,
the user's queries and qrels, each model scored through the collection's index by ``evaluate_collection``.
Only the models whose vectors the collection holds run it; the others leave that cell empty."""

from __future__ import annotations

from pathlib import PurePosixPath

import streamlit as st

from embedlab.evaluation.bench.collection_task import collection_models, collection_task
from ui import state
from ui.collections import describe, judgement_files, pick_collection
from ui.retrieval_collection import STORE_ERRORS

KIND_TITLE = "Retrieval over a collection (queries + qrels)"
CUSTOM = "bench_custom"  # the page's list of the user's own tasks


def collection_task_form() -> None:
    """Pick a collection, upload its queries and qrels, name the task and add it."""
    collection = pick_collection(state.BENCH_COLL)
    if collection is None:
        return
    st.markdown(describe(collection))
    files = judgement_files(state.BENCH_COLL)
    if files is None:
        return
    c1, c2 = st.columns([3, 1])
    default = f"{PurePosixPath(collection.uri.rstrip('/')).name} (collection)"  # not a bundled task's name
    name = c1.text_input("Task name", value=state.first_value("bench_coll_name", default), key="bench_coll_name")
    exact = c2.toggle("Exact search", value=state.first_value("bench_coll_exact", False), key="bench_coll_exact",
                      help="Score exact search instead of the ANN index (the index's cost shows in the task's "
                           "details either way: recall@10 against exact, and both nDCG@10s).")
    try:
        task = collection_task(name, collection.uri, *files, exact=exact)
        models = collection_models(collection)
    except STORE_ERRORS as exc:
        st.error(f"This collection and these files cannot make a retrieval task: {exc}")
        return
    st.caption(task.description)
    if st.button("Add this task", key="bench_coll_add"):
        st.session_state[CUSTOM] = [*(t for t in st.session_state.get(CUSTOM, []) if t.name != task.name), task]
        st.session_state[state.BENCH_COLL_MODELS] = {**st.session_state.get(state.BENCH_COLL_MODELS, {}),
                                                     task.name: models}
        st.rerun()


def collection_limits(models: list[str], task_names: list[str]) -> dict[str, list[str]]:
    """``model_tasks`` for ``run_bench``: a model whose vectors a collection task's collection lacks runs every
    task but that one (said on the page)."""
    holds = st.session_state.get(state.BENCH_COLL_MODELS, {})
    limits, left_out = {}, []
    for model in models:
        skipped = [t for t in task_names if t in holds and model not in holds[t]]
        if skipped:
            limits[model] = [t for t in task_names if t not in skipped]
            left_out.append(f"**{model}** ({', '.join(skipped)})")
    if left_out:
        st.caption("Collection tasks run only the models whose vectors the collection holds; left out: "
                   + ", ".join(left_out) + ". Add vectors with `embedlab index --collection … --model NAME`.")
    return limits
