"""Opening a collection on a page: pick one from the data folder or type a folder / URI; the queries and
qrels files that evaluate one."""

from __future__ import annotations

import streamlit as st

from embedlab.errors import EmbedlabError
from embedlab.store.collection import Collection, known_collections, resolve
from ui import state

TYPED = "(type a folder or URI)"
QUERY_TYPES = ["jsonl", "json", "csv", "tsv", "parquet"]
QRELS_TYPES = [*QUERY_TYPES, "txt"]


@st.cache_resource(show_spinner=False, max_entries=8)
def _open(uri: str) -> Collection:
    return Collection.open(uri)


def pick_collection(key: str) -> Collection | None:
    """A collection the user chose (``key`` names the widgets), or None with the reason shown.
    Build collections with ``embedlab index`` (see the README)."""
    names = known_collections()
    options = [*names, TYPED]
    choice = st.selectbox("Collection", options, index=state.choice_index(f"{key}_pick", options),
                          key=f"{key}_pick",
                          help="Collections in the data folder (built with `embedlab index --collection NAME`), "
                               "or any LanceDB folder or URI.")
    uri = st.text_input("Folder or URI", key=f"{key}_uri", placeholder="/data/support or s3://bucket/support") \
        if choice == TYPED else choice
    if not uri:
        if not names:
            st.info("No collection in the data folder yet. Build one with "
                    "`embedlab index --collection NAME --input FILE --model minilm`.")
        return None
    try:
        collection = _open(resolve(uri))  # a bare name is keyed by its folder: the data folder can change
        collection.count()  # a collection opened earlier may have been deleted since
    except EmbedlabError as exc:
        st.error(str(exc))
        return None
    except (OSError, ValueError, RuntimeError) as exc:  # LanceDB's own errors for an unreadable folder
        st.error(f"Could not open {uri} as a collection: {str(exc).splitlines()[0][:200]}")
        return None
    return collection


@st.cache_data(show_spinner="Reading what the collection holds…", max_entries=16)
def _summary(_collection: Collection, uri: str, version: int) -> dict:
    return _collection.summary()


def summary(collection: Collection) -> dict:
    """``Collection.summary()`` once per version of the collection: its counts read every vector column
    (seconds and hundreds of MB at 10^5 rows), so not on every rerun."""
    return _summary(collection, collection.uri, collection.docs().version)


def describe(collection: Collection, facts: dict | None = None) -> str:
    """One line on what ``collection`` holds (``facts``: its summary, when read already)."""
    s = facts or summary(collection)
    models = ", ".join(f"{n} ({m['embedded']:,} vectors{', ANN index' if m['ann_index'] else ', no ANN index'})"
                       for n, m in s["models"].items()) or "no vectors yet"
    extra = f" · other columns: {', '.join(s['columns'])}" if s["columns"] else ""
    return (f"**{s['documents']:,} documents** · models: {models} · full-text index: "
            f"{'yes' if s['full_text_index'] else 'no'}{extra}")


def _kept_upload(label: str, key: str, types: list[str]) -> tuple[str, bytes] | None:
    """An uploader whose last file stays in the session (``KEY_kept``) when the widget is not drawn."""
    file = st.file_uploader(label, type=types, key=key)
    if file is not None:
        st.session_state[f"{key}_kept"] = (file.name, file.getvalue())
    return st.session_state.get(f"{key}_kept")


def judgement_files(key: str) -> tuple[tuple[str, bytes], tuple[str, bytes]] | None:
    """The queries and qrels files (as ``eval retrieval`` reads them) that evaluate a collection, or
    None while one is missing. Widgets: ``KEY_queries`` and ``KEY_qrels``."""
    left, right = st.columns(2)
    with left:
        queries = _kept_upload("Queries: _id/id, text", f"{key}_queries", QUERY_TYPES)
    with right:
        qrels = _kept_upload("Qrels: query-id, corpus-id, score (ids of the collection)", f"{key}_qrels", QRELS_TYPES)
    if queries is None or qrels is None:
        st.info("Upload the queries and their relevance judgements (qrels) to evaluate; a BEIR queries.jsonl and "
                "qrels/test.tsv work as they are.")
        return None
    return queries, qrels
