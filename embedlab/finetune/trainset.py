"""Training data for contrastive fine-tuning: read, check, mine hard negatives, split.

Three shapes, as sentence-transformers' losses expect them:
  triplets       anchor, positive, negative     (MNRL with hard negatives, triplet loss)
  pairs          anchor, positive               (MNRL with in-batch negatives; mine negatives for triplet loss)
  scored pairs   sentence1, sentence2, score    (CoSENT)

Everything that would make training meaningless is rejected before any model is loaded, with a
message that says what is wrong and how to fix it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import pandas as pd

from embedlab.errors import DataError, OptionError
from embedlab.tables import refuse_numbers

MIN_ROWS = 10  # enough for a held-out split that says something (at least 2 rows) and a few batches
ANCHOR_NAMES = ("anchor", "query", "question", "sentence1", "text1", "sentence_a", "title", "premise")
POSITIVE_NAMES = ("positive", "pos", "document", "passage", "answer", "sentence2", "text2", "sentence_b",
                  "text", "hypothesis")
NEGATIVE_NAMES = ("negative", "neg", "hard_negative", "negative_1", "negative1")
SCORE_NAMES = ("score", "similarity", "label", "relatedness")
GROUP_NAMES = ("topic", "category", "group", "label", "class")


@dataclass(frozen=True)
class TrainSet:
    """Aligned rows. ``negatives`` is None for pairs; ``scores`` only for scored pairs; ``groups``
    (a topic per row, optional) only colours the maps."""

    anchors: list[str]
    positives: list[str]
    negatives: list[str] | None = None
    scores: list[float] | None = None
    groups: list[str] | None = None
    name: str = "data"
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.anchors)

    @property
    def kind(self) -> str:
        if self.scores is not None:
            return "scored pairs"
        return "triplets" if self.negatives is not None else "pairs"

    def take(self, rows: Sequence[int]) -> "TrainSet":
        pick = lambda xs: None if xs is None else [xs[i] for i in rows]  # noqa: E731
        return replace(self, anchors=pick(self.anchors), positives=pick(self.positives), negatives=pick(self.negatives),
                       scores=pick(self.scores), groups=pick(self.groups))

    def summary(self) -> str:
        return f"{len(self):,} {self.kind}"

    def to_frame(self) -> pd.DataFrame:
        cols = {"anchor": self.anchors, "positive": self.positives}
        if self.negatives is not None:
            cols["negative"] = self.negatives
        if self.scores is not None:
            cols["score"] = self.scores
        if self.groups is not None:
            cols["group"] = self.groups
        return pd.DataFrame(cols)


def _find(columns: Sequence[str], names: Sequence[str], explicit: str | None, what: str, *, exclude=()) -> str | None:
    if explicit:
        if explicit not in columns:
            raise DataError(f"Column {explicit!r} (the {what}) is not in the file. Its columns are: {', '.join(columns)}.")
        return explicit
    lowered = {c.lower().strip(): c for c in columns if c not in exclude}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _clean(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class _Columns:
    """Which column of the table plays which part (None: not in the table)."""

    anchor: str
    positive: str
    negative: str | None
    score: str | None
    group: str | None

    def describe(self) -> str:
        parts = [f"{role}={column!r}" for role, column in dataclasses.asdict(self).items() if column]
        return "columns: " + ", ".join(parts)


def from_table(
    df: pd.DataFrame,
    *,
    anchor: str | None = None,
    positive: str | None = None,
    negative: str | None = None,
    score: str | None = None,
    group: str | None = None,
    name: str = "data",
) -> TrainSet:
    """A TrainSet from a table, finding the columns by their usual names unless given.

    Rows with an empty cell, or whose anchor equals its positive, are left out with a note; what
    is left must still be enough to train on.
    """
    # 1. which column is which
    cols = _columns(df, anchor=anchor, positive=positive, negative=negative, score=score, group=group)
    # 2. the cells as clean texts (and numeric scores)
    full = _read(df, cols, name)
    # 3. the rows that can be learned from
    keep, notes = _usable_rows(full, cols.describe())
    out = replace(full.take(keep), notes=(f"Read {cols.describe()}.", *notes))
    check(out)
    return out


def _columns(df: pd.DataFrame, *, anchor, positive, negative, score, group) -> _Columns:
    columns = [str(c) for c in df.columns]
    a = _find(columns, ANCHOR_NAMES, anchor, "anchor")
    p = _find(columns, POSITIVE_NAMES, positive, "positive", exclude={a})
    if a is None or p is None:
        raise DataError(
            "Could not find the training columns. Name them anchor and positive (and optionally negative, "
            "or score for scored pairs), or pick them explicitly. The file's columns are: "
            f"{', '.join(columns)}."
        )
    n = _find(columns, NEGATIVE_NAMES, negative, "negative", exclude={a, p})
    s = _find(columns, SCORE_NAMES, score, "score", exclude={a, p, n})
    if s is not None and score is None:  # a found "label" column is a score only if it is numeric
        if pd.to_numeric(df[s], errors="coerce").isna().any():
            s = None
    g = _find(columns, GROUP_NAMES, group, "group", exclude={a, p, n, s})
    if n is not None and s is not None:
        raise DataError(f"The file has both a negative column ({n!r}) and a score column ({s!r}); "
                        "give triplets or scored pairs, not both.")
    return _Columns(a, p, n, s, g)


def _read(df: pd.DataFrame, cols: _Columns, name: str) -> TrainSet:
    for column in (cols.anchor, cols.positive, cols.negative):
        if column:  # a column of numbers would train on '3.5' as a sentence
            refuse_numbers(df, column)
    scores = None
    if cols.score:
        values = pd.to_numeric(df[cols.score], errors="coerce")
        if values.isna().any():
            first = int(values.isna().to_numpy().nonzero()[0][0])
            raise DataError(f"Score column {cols.score!r} must be numeric; row {first + 1} has "
                            f"{df[cols.score].iloc[first]!r}.")
        scores = values.astype(float).tolist()
    return TrainSet(
        anchors=[_clean(v) for v in df[cols.anchor].tolist()],
        positives=[_clean(v) for v in df[cols.positive].tolist()],
        negatives=[_clean(v) for v in df[cols.negative].tolist()] if cols.negative else None,
        scores=scores,
        groups=[str(v) for v in df[cols.group].tolist()] if cols.group else None,
        name=name,
    )


def _usable_rows(data: TrainSet, used: str) -> tuple[list[int], list[str]]:
    """The rows to keep and a note per kind of row left out; refuses data with nothing left to learn."""
    anchors, positives, negatives = data.anchors, data.positives, data.negatives
    keep, empty, same, neg_is_pos = [], 0, 0, 0
    for i in range(len(anchors)):
        if not anchors[i] or not positives[i] or (negatives is not None and not negatives[i]):
            empty += 1
        elif anchors[i].casefold() == positives[i].casefold() and data.scores is None:
            same += 1
        elif negatives is not None and negatives[i].casefold() == positives[i].casefold():
            neg_is_pos += 1
        else:
            keep.append(i)
    if empty == len(anchors):
        raise DataError(f"Every row has an empty cell ({used}); there is no text to train on.")
    if same and same + empty == len(anchors):
        raise DataError("The anchor and the positive are the same text in every row: there is nothing to learn. "
                        f"Check that the two columns hold different texts ({used}).")
    notes = []
    if empty:
        notes.append(f"{empty} row(s) with an empty cell left out.")
    if same:
        notes.append(f"{same} row(s) whose anchor equals its positive left out.")
    if neg_is_pos:
        notes.append(f"{neg_is_pos} row(s) whose negative equals its positive left out.")
    return keep, notes


def check(data: TrainSet, *, loss: str | None = None) -> None:
    """Raise DataError if ``data`` cannot be trained on (with ``loss``, if given)."""
    if len(data) < MIN_ROWS:
        raise DataError(
            f"The training set has {len(data)} usable row(s); fine-tuning needs at least {MIN_ROWS} "
            "(a fifth are held out to measure before and after)."
        )
    if data.scores is not None and len(set(data.scores)) < 2:
        raise DataError("Every pair has the same score; scored pairs need different scores to learn an ordering.")
    if loss == "cosent" and data.scores is None:
        raise DataError("CoSENT learns from scored pairs: give a score column (sentence1, sentence2, score).")
    if loss in ("mnrl", "triplet", "infonce") and data.scores is not None:
        raise DataError(f"Loss {loss!r} needs (anchor, positive[, negative]) rows; these are scored pairs. "
                        "Use CoSENT for scored pairs.")
    if loss == "triplet" and data.negatives is None:
        raise DataError("Triplet loss needs a negative per row: give a negative column or mine hard negatives.")
    if len(set(zip(data.anchors, data.positives))) < 2:
        raise DataError("All rows are the same pair; give at least two different pairs.")


def bbc_triplets(n: int | None = 1000, *, seed: int = 0) -> TrainSet:
    """BBC News: title -> its article, hard negative = the article on the same topic that BM25
    ranks highest for the title, other than the title's own article.

    A random same-topic article is too easy (MiniLM already ranks the right one first for every
    held-out title), which leaves nothing to measure. Duplicate articles (the corpus has 136
    repeated bodies) are kept once. ``n`` rows are drawn at random (seeded).
    """
    from embedlab.bundled import bbc_news

    df = bbc_news().drop_duplicates("text").drop_duplicates("title").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    if n is not None and n < len(df):
        df = df.iloc[np.sort(rng.choice(len(df), n, replace=False))].reset_index(drop=True)
    texts, labels = df["text"].tolist(), df["label"].tolist()
    negatives = same_topic_negatives(df["title"].tolist(), texts, labels, texts, labels, rng=rng)
    note = (f"BBC News title → article; hard negative: the same-topic article BM25 ranks highest for the title "
            f"({len(set(labels))} topics, {len(df)} rows, seed {seed}).")
    return TrainSet(df["title"].tolist(), df["text"].tolist(), negatives, None, df["label"].tolist(), name="BBC News",
                    notes=(note,))


def same_topic_negatives(queries: Sequence[str], own: Sequence[str], labels: Sequence[str], pool: Sequence[str],
                         pool_labels: Sequence[str], *, rng: np.random.Generator) -> list[str]:
    """For each query, the text of ``pool`` with the query's label that BM25 ranks highest, other than
    the query's ``own`` text; a label with no other text in the pool gives a random text of another."""
    from embedlab.retrieval.search import BM25Index

    labels, pool_labels = np.asarray(labels), np.asarray(pool_labels)
    negatives = [""] * len(queries)
    for label in pd.unique(labels):
        rows, candidates = np.flatnonzero(labels == label), np.flatnonzero(pool_labels == label)
        texts = [pool[j] for j in candidates]
        ranked = BM25Index(texts).search([queries[i] for i in rows], min(5, len(texts))).indices.tolist() \
            if texts else [[] for _ in rows]
        for i, order in zip(rows, ranked):
            other = next((texts[j] for j in order if texts[j] != own[i]), None)
            if other is None:
                others = np.flatnonzero(pool_labels != label)
                if not len(others):
                    raise DataError("Hard negatives need at least two different texts to choose from.")
                other = pool[int(rng.choice(others))]
            negatives[i] = other
    return negatives


MIN_HELD_OUT = 100  # anchors: on 20, MiniLM scored 1.000 on BBC before training, so no change could show
MAX_HELD_OUT = 500  # anchors: enough for a stable nDCG@10; the rest is better spent on training


def held_out_count(anchors: int, held_out: float, *, min_held_out: int = MIN_HELD_OUT,
                   max_held_out: int = MAX_HELD_OUT) -> int:
    """How many of ``anchors`` distinct anchors are held out: the share asked for, raised to
    ``min_held_out`` (but never more than half) and lowered to ``max_held_out``; always at least
    two on each side."""
    n_out = round(anchors * held_out)
    n_out = max(n_out, min(min_held_out, anchors // 2))
    return max(2, min(n_out, max_held_out, anchors - 2))


def split(data: TrainSet, *, held_out: float = 0.2, seed: int = 0, min_held_out: int = MIN_HELD_OUT,
          max_held_out: int = MAX_HELD_OUT) -> tuple[TrainSet, TrainSet]:
    """Train and held-out parts (sized by ``held_out_count``). Rows sharing an anchor stay on one
    side, so a held-out anchor was never seen in training."""
    if not 0.0 < held_out < 1.0:
        raise OptionError(f"The held-out fraction must be between 0 and 1, got {held_out}.")
    anchors = pd.unique(pd.Series(data.anchors))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(anchors))
    if len(anchors) < 4:
        raise DataError(f"Only {len(anchors)} different anchors: too few to hold some out.")
    n_out = held_out_count(len(anchors), held_out, min_held_out=min_held_out, max_held_out=max_held_out)
    out_anchors = set(anchors[order[:n_out]].tolist())
    test_rows = [i for i, a in enumerate(data.anchors) if a in out_anchors]
    train_rows = [i for i, a in enumerate(data.anchors) if a not in out_anchors]
    train = replace(data.take(train_rows), name=f"{data.name} (train)")
    test = replace(data.take(test_rows), name=f"{data.name} (held out)")
    return train, test


def mine_negatives(data: TrainSet, *, method: str = "bm25", model=None, seed: int = 0) -> TrainSet:
    """Give every pair a hard negative: the best-ranked *other* positive of the same set for the
    anchor, by BM25 or by ``model`` (the base embedder). Never the row's own positive, nor any text
    equal to it or to the anchor."""
    if data.scores is not None:
        raise DataError("Hard negatives are for (anchor, positive) pairs, not scored pairs.")
    pool = list(pd.unique(pd.Series(data.positives)))
    if len(pool) < 2:
        raise DataError("Mining needs at least two different positives to draw negatives from.")
    depth = min(len(pool), 20)
    if method == "bm25":
        from embedlab.retrieval.search import BM25Index

        ranked = BM25Index(pool).search(data.anchors, depth).indices
    elif method == "model":
        if model is None:
            raise ValueError("method='model' needs the base model.")
        from embedlab.retrieval.search import DenseIndex

        docs = model.encode(pool, role="document")
        ranked = DenseIndex(docs, normalized=True).search(model.encode(data.anchors, role="query"), depth).indices
    else:
        raise OptionError(f"Unknown mining method {method!r}; use bm25 or model.")
    rng = np.random.default_rng(seed)
    negatives = []
    for i, row in enumerate(ranked.tolist()):
        own = {data.positives[i].casefold(), data.anchors[i].casefold()}
        pick = next((pool[j] for j in row if pool[j].casefold() not in own), None)
        if pick is None:  # everything the ranker found is the positive: any other text will do
            others = [t for t in pool if t.casefold() not in own]
            pick = others[int(rng.integers(len(others)))]
        negatives.append(pick)
    return replace(data, negatives=negatives, notes=(*data.notes, f"Hard negatives mined with {method} ({len(data)} rows)."))
