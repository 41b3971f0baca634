"""Retrieval data: a corpus, queries and relevance judgements (qrels).

Reads BEIR folders (corpus.jsonl with _id/title/text, queries.jsonl with _id/text,
qrels/<split>.tsv with query-id/corpus-id/score) and the same three tables as CSV/TSV/JSONL/Parquet.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from embedlab.errors import DataError
from embedlab.tables import decode_text, file_bytes, read_table, refuse_numbers

Qrels = dict[str, dict[str, int]]

TEXT_COLUMNS = ("text", "body", "contents", "content", "query", "passage")


@dataclass(frozen=True)
class RetrievalData:
    name: str
    doc_ids: list[str]
    titles: list[str]
    bodies: list[str]
    query_ids: list[str]
    queries: list[str]
    qrels: Qrels
    notes: list[str] = field(default_factory=list)  # what loading dropped or changed, for the user
    # Drop a result whose document id equals the query id before scoring (mteb does this for
    # ArguAna, Quora, FiQA2018, FEVER, MSMARCO: ``ignore_identical_ids = True`` on those tasks).
    ignore_identical_ids: bool = False

    @cached_property
    def doc_index(self) -> dict[str, int]:
        return {d: i for i, d in enumerate(self.doc_ids)}

    @cached_property
    def query_index(self) -> dict[str, int]:
        return {q: i for i, q in enumerate(self.query_ids)}

    @property
    def doc_texts(self) -> list[str]:
        """What gets embedded: title and text joined by a space, as mteb does
        (mteb/_create_dataloaders.py, ``_corpus_to_dict``)."""
        return [(t + " " + b).strip() if t else b.strip() for t, b in zip(self.titles, self.bodies)]

    def summary(self) -> str:
        judged = sum(len(v) for v in self.qrels.values())
        return f"{len(self.doc_ids):,} documents · {len(self.query_ids):,} queries · {judged:,} judgements"

    def subset_queries(self, n: int, seed: int = 0) -> "RetrievalData":
        """The first ``n`` queries after a seeded shuffle (for quick runs); the corpus stays whole."""
        if n >= len(self.query_ids):
            return self
        import numpy as np

        keep = sorted(np.random.default_rng(seed).choice(len(self.query_ids), n, replace=False).tolist())
        qids = [self.query_ids[i] for i in keep]
        return RetrievalData(self.name, self.doc_ids, self.titles, self.bodies, qids,
                             [self.queries[i] for i in keep], {q: self.qrels[q] for q in qids},
                             [*self.notes, f"Evaluated on {n:,} of {len(self.query_ids):,} queries (seed {seed})."],
                             self.ignore_identical_ids)


def _pick(frame: pd.DataFrame, wanted: tuple[str, ...], what: str, source: str) -> str:
    columns = [str(c) for c in frame.columns]
    lower = {c.lower(): c for c in columns}
    for name in wanted:
        if name in lower:
            return lower[name]
    where = f" in {frame.attrs['source']}" if frame.attrs.get("source") else ""
    raise DataError(f"{source}: no {what} column; expected one of {', '.join(wanted)} "
                    f"(found {', '.join(columns)}{where}).")


def _as_table(source, name: str) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    if isinstance(source, (str, Path)):
        return read_table(_existing(source, name))  # a folder or an unreadable file: an error naming it
    filename, content = source  # (filename, bytes) from an upload
    return read_table(content, filename=filename)


def _existing(path: str | Path, name: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{name} file not found: {path}")
    return path


def _ids(frame: pd.DataFrame, column: str, what: str) -> list[str]:
    ids = frame[column].astype(str).str.strip().tolist()
    if any(not i or i == "nan" for i in ids):
        raise DataError(f"{what}: some rows have an empty id in column {column!r}.")
    dupes = pd.Series(ids)[pd.Series(ids).duplicated()].unique().tolist()
    if dupes:
        raise DataError(f"{what}: ids must be unique; repeated: {', '.join(dupes[:5])}.")
    return ids


def read_corpus(source) -> tuple[list[str], list[str], list[str]]:
    frame = _as_table(source, "Corpus")
    cols = list(frame.columns)
    id_col = _pick(frame, ("_id", "id", "doc_id", "docid", "corpus-id", "corpus_id"), "id", "Corpus")
    text_col = _pick(frame, TEXT_COLUMNS, "text", "Corpus")
    title_col = next((c for c in cols if c.lower() == "title"), None)
    ids = _ids(frame, id_col, "Corpus")
    bodies = frame[text_col].fillna("").astype(str).tolist()
    titles = frame[title_col].fillna("").astype(str).tolist() if title_col else [""] * len(ids)
    if not any(t.strip() or b.strip() for t, b in zip(titles, bodies)):
        raise DataError("Corpus: every document is empty.")
    if not any(t.strip() for t in titles):  # the bodies alone are the documents: they must be text
        refuse_numbers(frame, text_col)
    return ids, titles, bodies


def read_queries(source) -> tuple[list[str], list[str]]:
    frame = _as_table(source, "Queries")
    id_col = _pick(frame, ("_id", "id", "query-id", "query_id", "qid"), "id", "Queries")
    text_col = _pick(frame, ("text", "query", "question", "title"), "text", "Queries")
    return _ids(frame, id_col, "Queries"), frame[text_col].fillna("").astype(str).tolist()


def read_qrels(source) -> Qrels:
    """BEIR TSV (header query-id, corpus-id, score), CSV equivalents, or TREC's 4 columns without header."""
    if isinstance(source, pd.DataFrame):
        frame = source
    else:
        filename, raw = source if isinstance(source, tuple) else (Path(source).name,
                                                                 file_bytes(_existing(source, "Qrels")))
        frame = _qrels_frame(raw, filename)
    cols = list(frame.columns)
    q_col = _pick(frame, ("query-id", "query_id", "qid", "query"), "query id", "Qrels")
    d_col = _pick(frame, ("corpus-id", "corpus_id", "doc-id", "doc_id", "docid", "doc"), "document id", "Qrels")
    s_col = next((c for c in cols if c.lower() in ("score", "relevance", "rel", "label")), None)
    qrels: Qrels = {}
    for row in frame.itertuples(index=False):
        record = dict(zip(cols, row))
        q, d = str(record[q_col]).strip(), str(record[d_col]).strip()
        try:
            score = int(float(record[s_col])) if s_col else 1
        except (TypeError, ValueError):
            raise DataError(f"Qrels: relevance {record[s_col]!r} for query {q} / document {d} is not a number.") from None
        qrels.setdefault(q, {})[d] = score
    if not qrels:
        raise DataError("Qrels: the file has no judgements.")
    return qrels


def _qrels_frame(raw: bytes, filename: str) -> pd.DataFrame:
    """TREC's four whitespace-separated columns without a header, or a table with one."""
    text = decode_text(raw, Path(filename).name)  # not UTF-8: refused with the file's name, never guessed
    first = text.lstrip().split("\n", 1)[0]
    fields = first.replace("\t", " ").replace(",", " ").split()
    if len(fields) == 4 and not any(f.lower() in ("query-id", "qid", "query_id") for f in fields):
        try:
            frame = pd.read_csv(io.StringIO(text), sep=r"\s+", header=None, dtype=str,
                                names=["query-id", "iter", "corpus-id", "score"])
        except (ValueError, pd.errors.ParserError) as exc:
            raise DataError(f"Could not read {Path(filename).name} as TREC qrels: {str(exc).strip()[:200]}") from None
        frame.attrs["source"] = Path(filename).name
        return frame
    return read_table(raw, filename=filename, fmt="tsv" if filename.lower().endswith(".txt") else None)


def assemble(name: str, corpus, queries, qrels, *, ignore_identical_ids: bool = False) -> RetrievalData:
    """Put the three parts together and check they refer to each other."""
    doc_ids, titles, bodies = read_corpus(corpus)
    query_ids, query_texts = read_queries(queries)
    judged = read_qrels(qrels)
    notes = []
    known_queries = set(query_ids)
    missing_q = [q for q in judged if q not in known_queries]
    if missing_q:
        notes.append(f"{len(missing_q):,} judged queries are not in the queries file and were left out.")
        judged = {q: v for q, v in judged.items() if q in known_queries}
    keep = [i for i, q in enumerate(query_ids) if q in judged and any(s > 0 for s in judged[q].values())]
    if len(keep) < len(query_ids):
        notes.append(f"{len(query_ids) - len(keep):,} queries without a relevant judgement are not evaluated "
                     "(as in BEIR/mteb).")
    if not keep:
        raise DataError("No query has a relevant document in the qrels: check that the query ids match.")
    known_docs = set(doc_ids)
    unknown = sum(1 for q in keep for d in judged[query_ids[q]] if d not in known_docs)
    if unknown:
        notes.append(f"{unknown:,} judged documents are not in the corpus (they still count as relevant, as in "
                     "pytrec_eval, so they cap recall).")
    qids = [query_ids[i] for i in keep]
    return RetrievalData(name, doc_ids, titles, bodies, qids, [query_texts[i] for i in keep],
                         {q: judged[q] for q in qids}, notes, ignore_identical_ids)


# BEIR sets on which mteb ignores a document that has the query's own id (see RetrievalData).
IDENTICAL_ID_SETS = {"arguana", "quora", "fiqa", "fiqa2018", "fever", "msmarco"}


def load_beir(folder: str | Path, split: str = "test", *, ignore_identical_ids: bool | None = None) -> RetrievalData:
    """``ignore_identical_ids=None`` decides from the folder name, as mteb's task for that set does."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"BEIR folder not found: {folder}")
    qrels = folder / "qrels" / f"{split}.tsv"
    if not qrels.is_file():
        found = sorted(p.stem for p in (folder / "qrels").glob("*.tsv")) if (folder / "qrels").is_dir() else []
        raise DataError(f"{qrels} not found" + (f"; splits here: {', '.join(found)}" if found else ""))
    for part in ("corpus.jsonl", "queries.jsonl"):
        if not (folder / part).is_file():
            raise DataError(f"{folder / part} not found (a BEIR folder has corpus.jsonl, queries.jsonl, qrels/).")
    decided = ignore_identical_ids is None and "".join(
        ch for ch in folder.name.lower() if ch.isalnum()) in IDENTICAL_ID_SETS
    data = assemble(f"{folder.name} ({split})", folder / "corpus.jsonl", folder / "queries.jsonl", qrels,
                    ignore_identical_ids=bool(ignore_identical_ids or decided))
    if decided:
        note = f"Results with the query's own id are ignored, as mteb does for {folder.name}."
        data = dataclasses.replace(data, notes=[*data.notes, note])
    return data


def bbc_title_to_article() -> RetrievalData:
    """BBC News as a retrieval set: each title is a query, its own article body the relevant document.

    Relevance comes from the file layout (the title is line 1 of the article's file). Some articles
    appear twice in the collection; duplicate bodies are kept once and the query points to that copy.
    """
    from embedlab.bundled import bbc_news

    frame = bbc_news()
    first_id: dict[str, str] = {}
    doc_ids, bodies, query_ids, queries, qrels = [], [], [], [], {}
    seen_queries: set[tuple[str, str]] = set()
    for row in frame.itertuples(index=False):
        doc = first_id.setdefault(row.text, row.id)
        if doc == row.id:
            doc_ids.append(row.id)
            bodies.append(row.text)
        if (row.title, doc) in seen_queries:  # the same article twice: one query is enough
            continue
        seen_queries.add((row.title, doc))
        query_ids.append(row.id)
        queries.append(row.title)
        qrels[row.id] = {doc: 1}
    notes = [f"{len(frame) - len(doc_ids)} duplicate articles kept once."]
    return RetrievalData("BBC News title → article", doc_ids, [""] * len(doc_ids), bodies, query_ids, queries,
                         qrels, notes)


def write_beir(data: RetrievalData, folder: str | Path, split: str = "test") -> Path:
    """``data`` as a BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv), the format
    ``load_beir``, ``eval retrieval --data`` and ``embedlab index`` read."""
    import json

    folder = Path(folder)
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as out:
        for d, t, b in zip(data.doc_ids, data.titles, data.bodies):
            out.write(json.dumps({"_id": d, "title": t, "text": b}) + "\n")
    with open(folder / "queries.jsonl", "w", encoding="utf-8") as out:
        for q, text in zip(data.query_ids, data.queries):
            out.write(json.dumps({"_id": q, "text": text}) + "\n")
    with open(folder / "qrels" / f"{split}.tsv", "w", encoding="utf-8") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for q, docs in data.qrels.items():
            for d, s in docs.items():
                out.write(f"{q}\t{d}\t{s}\n")
    return folder
