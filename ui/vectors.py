""""Your own vectors": an upload of embeddings made elsewhere (an API, another tool), kept in the session
like the pages' other uploads, checked against the texts it is for, and served as one more model
(``embedlab.vectors.PrecomputedEmbedder``). Every problem is an st.error naming the file, never an exception."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import streamlit as st

from embedlab.embedder import is_precomputed
from embedlab.errors import EmbedlabError
from embedlab.retrieval.pipeline import without_models
from embedlab.tables import read_table
from embedlab.vectors import (
    UPLOAD_TYPES,
    PrecomputedEmbedder,
    UploadedVectors,
    align_vectors,
    is_table,
    model_name,
    read_vectors,
    vector_columns,
)
from ui.state import VectorKeys

BY_ORDER = "(by row order)"
FORMATS_HELP = ("A .npy 2-D float array (numpy.save), one row per {row}, in order; or Parquet/JSONL (CSV with JSON "
                "lists also works) with a column of vectors (lists of numbers) and, optionally, an id column to "
                "match them by id.")


@st.cache_resource(show_spinner=False, max_entries=6)
def _table(name: str, data: bytes) -> pd.DataFrame:
    return read_table(data, filename=name)


@st.cache_resource(show_spinner=False, max_entries=6)
def _vectors(name: str, data: bytes, column: str | None, id_column: str | None) -> UploadedVectors:
    return read_vectors(data, filename=name, column=column, id_column=id_column)


def kept_upload(keys: VectorKeys, label: str, *, help: str) -> tuple[str, bytes] | None:
    """The uploader and the last file it was given (kept while the widget is not drawn, e.g. on another
    page); Remove drops the file and empties the uploader."""
    session = st.session_state
    generation = session.setdefault(keys.generation, 0)
    file = st.file_uploader(label, type=UPLOAD_TYPES, key=keys.upload(generation), help=help)
    if file is not None:
        session[keys.file] = (file.name, file.getvalue())
    kept = session.get(keys.file)
    if kept is None:
        return None
    if file is None:
        st.caption(f"Using **{kept[0]}**, uploaded earlier in this session.")
    if st.button(f"Remove {kept[0]}", key=keys.remove):
        del session[keys.file]
        session[keys.generation] = generation + 1
        st.rerun()
    return kept


def read_upload(keys: VectorKeys, file: tuple[str, bytes], *, by_id: bool) -> UploadedVectors | None:
    """The file's vectors: for a table, from the column the user picks (and by the id column, when
    ``by_id`` and one is picked); None, with an st.error, when they cannot be read."""
    name, data = file
    column = id_column = None
    try:
        if is_table(name):
            table = _table(name, data)
            choices = vector_columns(table)
            if not choices:  # read_vectors says what the table has instead
                return _vectors(name, data, None, None)
            c1, c2 = st.columns(2)
            column = c1.selectbox("Column of vectors", choices, key=keys.column)
            if by_id:
                picked = c2.selectbox("Match to documents", [BY_ORDER, *[str(c) for c in table.columns if c != column]],
                                      key=keys.id_column, help="By row order, or by an id column whose values are "
                                                               "the documents' ids.")
                id_column = None if picked == BY_ORDER else picked
        return _vectors(name, data, column, id_column)
    except EmbedlabError as exc:
        st.error(f"Could not use {name} as vectors: {exc}")
        return None


def aligned(uploaded: UploadedVectors, *, ids: Sequence[str], rows: Sequence[int] | None = None,
            table_rows: int | None = None, what: str = "corpus") -> np.ndarray | None:
    """One vector per document (``align_vectors``); None, with an st.error, when they do not fit."""
    try:
        return align_vectors(uploaded, ids=ids, rows=rows, table_rows=table_rows, what=what)
    except EmbedlabError as exc:
        st.error(f"Could not use {uploaded.source} as vectors: {exc}")
        return None


def served(name: str, texts: Sequence[str], vectors: np.ndarray, **queries) -> PrecomputedEmbedder | None:
    try:
        model = PrecomputedEmbedder(name, texts, vectors, **queries)
    except EmbedlabError as exc:
        st.error(f"Could not use {name}: {exc}")
        return None
    for note in model.notes:
        st.caption(note)
    return model


def own_vectors(keys: VectorKeys, *, texts: Sequence[str], ids: Sequence[str] | None = None,
                rows: Sequence[int] | None = None, table_rows: int | None = None, what: str = "corpus",
                label: str = "Your own vectors (optional)") -> PrecomputedEmbedder | None:
    """One upload of vectors for ``texts`` (the documents of a ``table_rows``-row table, kept at ``rows``),
    matched by order or, when ``ids`` are given and the user picks an id column, by id."""
    file = kept_upload(keys, label, help=FORMATS_HELP.format(row=f"row of the {what}")
                       + " They join the run as a model named vectors:FILENAME.")
    if file is None:
        return None
    uploaded = read_upload(keys, file, by_id=ids is not None)
    if uploaded is None:
        return None
    matrix = aligned(uploaded, ids=ids if ids is not None else [str(i + 1) for i in range(len(texts))], rows=rows,
                     table_rows=table_rows, what=what)
    model = served(model_name(file[0]), texts, matrix) if matrix is not None else None
    if model is not None:
        st.caption(f"**{model.name}**: {uploaded.describe()}.")
    return model


def retrieval_vectors(doc_keys: VectorKeys, query_keys: VectorKeys, data) -> PrecomputedEmbedder | None:
    """Uploaded document vectors (aligned with the corpus) and query vectors (aligned with the set's
    queries) as one dense model, named after the document file. A query is searched with its own
    uploaded vector, so without query vectors the model cannot search: said, not failed."""
    with st.expander("Your own vectors (optional)", expanded=bool(st.session_state.get(doc_keys.file))):
        docs_file = kept_upload(doc_keys, "Document vectors", help=FORMATS_HELP.format(row="document of the corpus"))
        queries_file = kept_upload(query_keys, "Query vectors", help=FORMATS_HELP.format(row="query of the set")
                                   + " Searching needs them: a query is searched with its own uploaded vector.")
        if docs_file is None:
            return None
        docs = read_upload(doc_keys, docs_file, by_id=True)
        doc_matrix = aligned(docs, ids=data.doc_ids, what="corpus") if docs is not None else None
        if doc_matrix is None:
            return None
        name = model_name(docs_file[0])
        if queries_file is None or not data.queries:
            st.info(f"**{name}** cannot search yet: a query is searched with its own vector, so it needs query "
                    "vectors made by the same model, one per query of the set "
                    + ("(upload them above)." if data.queries else "(upload queries with the corpus, then their "
                                                                     "vectors)."))
            return None
        queries = read_upload(query_keys, queries_file, by_id=True)
        query_matrix = aligned(queries, ids=data.query_ids, what="queries") if queries is not None else None
        if query_matrix is None:
            return None
        model = served(name, data.doc_texts, doc_matrix, query_texts=data.queries, query_vectors=query_matrix)
        if model is not None:
            st.caption(f"**{name}**: documents {docs.describe()}; queries {queries.describe()}. It searches only "
                       "with the set's queries (a typed query has no vector).")
        return model


def searchable(models: dict[str, object], plan, query: str):
    """The models and plan that can search ``query``: uploaded vectors only can for a query with an
    uploaded vector (one of the set's); the others are left out of this search, with the reason."""
    lacking = [n for n, m in models.items() if is_precomputed(m) and m.missing([query], role="query")]
    if not lacking:
        return models, plan
    st.info(f"**{', '.join(lacking)}** cannot search for this query: uploaded vectors have no vector for a typed "
            "query (it would need the model that made them). Pick one of the set's queries to search with them.")
    return {n: m for n, m in models.items() if n not in lacking}, without_models(plan, lacking)
