"""The Fine-tuning page's results: before/after scores, maps and per-query changes, and the saved models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from embedlab.errors import EmbedlabError
from embedlab.explorer.projection import METHODS, ProjectionConfig, procrustes_align, reduce_dimensions
from embedlab.finetune.job import FinetuneJob, FinetuneResult
from embedlab.finetune.saved import delete_saved, saved_runs
from ui import charts, glossary, jobs, state


@st.cache_data(show_spinner="Drawing the before/after maps…", max_entries=4)
def maps(key: str, method: str, _before: np.ndarray, _after: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Both maps, the second rotated onto the first, and what was used instead of the chosen method."""
    cfg = ProjectionConfig(method=method)
    a, b = reduce_dimensions(_before, cfg), reduce_dimensions(_after, cfg)
    return a.coords, procrustes_align(a.coords, b.coords), list(dict.fromkeys([*a.notes, *b.notes]))


RANDOM_PAIRS = "mean random-pair cosine"
PERPLEXITY = "perplexity"  # decoders: not on the 0-1 scale of the other scores, and lower is better


# 4. Results ---------------------------------------------------------------------------------------
def results_section(job: FinetuneJob) -> None:
    if job.error:
        st.error(f"The run failed: {job.error} Nothing was saved; earlier models are untouched.")
        return
    if job.result is None:
        return
    if job.result.stopped:
        st.warning("Stopped. Nothing was saved; earlier models are untouched.")
        return
    r = job.result
    st.subheader("4 · Before and after, on the held-out split",
                 help=glossary.helps("nDCG@10", "MRR", "recall", after="Triplet accuracy: the share of held-out rows "
                                     "whose anchor is closer to its positive than to its negative."))
    st.success(f"Saved **{r.name}** ({'reranker: cross-encoder:' + r.name if r.kind == 'reranker' else 'embedder'}) "
               f"to `{r.path}` — {r.train_rows} training rows, {r.held_out_rows} held out, {r.duration}.")
    for warning in r.warnings:
        st.warning(warning)
    for note in (*r.notes, *([r.length.reason] if r.length else [])):
        st.caption(note)
    scores_view(r)
    if r.before.negative_sims is not None:
        before = {"positive": r.before.positive_sims, "negative": r.before.negative_sims}
        after = {"positive": r.after.positive_sims, "negative": r.after.negative_sims}
        x_title = "score(anchor, text)" if r.kind == "reranker" else "cosine(anchor, text)"
        st.plotly_chart(charts.before_after_histograms(before, after, x_title=x_title), key="ft_hist")
        if r.kind == "reranker":
            st.caption("Before: the base bi-encoder's cosine. After: the cross-encoder's logit.")
    if r.kind == "embedder":
        maps_view(r, f"{job.name}-{job.started}")  # one run's maps, computed once
    per_query_view(r)


def scores_view(r: FinetuneResult) -> None:
    table = r.table
    left, right = st.columns([2, 3])
    left.dataframe(table.style.format("{:+.4f}", subset=["change"]).format("{:.4f}", subset=["before", "after"]),
                   key="ft_table")
    right.plotly_chart(charts.before_after_bars(table.drop(index=[RANDOM_PAIRS, PERPLEXITY], errors="ignore")),
                       key="ft_bars")
    for note in r.before.notes:
        st.caption(note)
    if RANDOM_PAIRS in table.index:
        rp = table.loc[RANDOM_PAIRS]
        st.caption(f"Mean cosine of random held-out pairs: {rp['before']:.3f} → {rp['after']:.3f} "
                   "(near 1 means every text looks alike; contrastive training spreads them out).")


def maps_view(r: FinetuneResult, run_key: str) -> None:
    method = st.radio("Map", sorted(METHODS), key=state.FT_MAP, horizontal=True)
    a, b, notes = maps(run_key, method, r.before.doc_vectors, r.after.doc_vectors)
    for note in notes:
        st.warning(note)
    mc1, mc2 = st.columns(2)
    mc1.caption("Held-out documents, base model")
    mc1.plotly_chart(charts.corpus_map(a, r.before.doc_groups, r.before.doc_texts, height=420), key="ft_map_b")
    mc2.caption("Held-out documents, fine-tuned (rotated onto the left map)")
    mc2.plotly_chart(charts.corpus_map(b, r.after.doc_groups, r.after.doc_texts, height=420), key="ft_map_a")


def per_query_view(r: FinetuneResult) -> None:
    before, after = r.before.per_query, r.after.per_query
    if before is None or after is None:
        return
    change = (after["nDCG@10"] - before["nDCG@10"]).rename("nDCG@10 change")
    with st.expander("Held-out queries that changed most"):
        st.dataframe(pd.concat([before["nDCG@10"].rename("before"), after["nDCG@10"].rename("after"), change], axis=1)
                     .sort_values("nDCG@10 change"), key="ft_per_query")


# 5. Saved -----------------------------------------------------------------------------------------
def saved_section() -> None:
    st.subheader("Saved fine-tuned models and rerankers")
    saved = saved_runs()
    if not saved:
        st.caption("Nothing yet. Fine-tuned models appear here, on every page's model list and in "
                   "`python -m embedlab models`.")
        return
    st.dataframe(pd.DataFrame(saved).set_index("name"), key="ft_saved")
    choices = {s["name"] + (" (reranker)" if s["kind"] == "reranker" else ""): s for s in saved}
    d1, d2, d3 = st.columns([3, 1, 1])
    victim = d1.selectbox("Delete", list(choices), key="ft_delete_name")
    sure = d2.checkbox("I am sure", key="ft_delete_sure")
    if d3.button("Delete", key="ft_delete", disabled=bool(jobs.running()) or not sure):
        try:
            delete_saved(choices[victim]["name"], choices[victim]["kind"])
        except EmbedlabError as exc:
            st.error(str(exc))
            return
        st.rerun()


