"""The rows of a two-stage experiment: stage-1 pairs, stage-2 rows, and one held-out set.

    held out  |  stage 2 (small, curated, hard negatives)  |  stage 1 (large, pairs only)

The held-out set is disjoint from both stages' training rows: no held-out anchor and no held-out
positive appears as an anchor or positive of a training row (texts compared exactly), so the four
columns of the result (base, stage 1, stage 1+2, stage 2 only) are measured on texts none of them
was trained on. Stage 1 and stage 2 are disjoint from each other too when both come from one file,
so "stage 2 only" never saw a stage-1 row.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from embedlab.errors import DataError
from embedlab.finetune.trainset import (
    MIN_ROWS,
    TrainSet,
    check,
    mine_negatives,
    same_topic_negatives,
)


@dataclass(frozen=True)
class StageData:
    stage1: TrainSet  # pairs: anchor -> positive, in-batch negatives only
    stage2: TrainSet  # triplets, or pairs whose hard negatives are mined at run time
    held: TrainSet  # triplets: the same rows and negatives for every column
    name: str = "data"
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        return (f"stage 1: {len(self.stage1):,} pairs · stage 2: {self.stage2.summary()} · "
                f"held out: {len(self.held):,} rows")


def _anchor_order(data: TrainSet, rng: np.random.Generator) -> list[str]:
    anchors = list(pd.unique(pd.Series(data.anchors)))
    return [anchors[i] for i in rng.permutation(len(anchors))]


def _rows_with(data: TrainSet, anchors: set[str]) -> list[int]:
    return [i for i, a in enumerate(data.anchors) if a in anchors]


def _untouched(data: TrainSet, held: TrainSet) -> tuple[TrainSet, int]:
    """``data`` without any row that shares an anchor or positive with ``held`` (and how many went)."""
    texts = set(held.anchors) | set(held.positives)
    keep = [i for i, (a, p) in enumerate(zip(data.anchors, data.positives)) if a not in texts and p not in texts]
    return data.take(keep), len(data) - len(keep)


def split_stages(pairs: TrainSet, stage2: TrainSet | None = None, *, held_out_rows: int, stage1_rows: int,
                 stage2_rows: int, seed: int = 0, mine_held: bool = True) -> StageData:
    """Held-out, stage-2 and stage-1 rows. The held-out anchors are drawn from ``pairs`` (seeded);
    without ``stage2`` the stage-2 rows are the next ``stage2_rows`` anchors of ``pairs``, and stage 1
    is what is left (at most ``stage1_rows``, 0 = all). Stage 1 keeps no negatives (in-batch only);
    held-out rows without negatives get BM25-mined ones among the held-out positives (unless
    ``mine_held`` is False: the caller gives them its own)."""
    for part in (pairs, stage2):
        if part is not None and part.scores is not None:
            raise DataError(f"{part.name} holds scored pairs; two-stage training learns from (anchor, positive"
                            "[, negative]) rows. Train scored pairs in one run with CoSENT.")
    # 1. the held-out anchors, then everything that touches them leaves the training side
    rng = np.random.default_rng(seed)
    order = _anchor_order(pairs, rng)
    if held_out_rows < 2 or held_out_rows >= len(order) - 2:
        raise DataError(f"{len(order)} different anchors cannot hold out {held_out_rows} and still train; "
                        "hold out fewer rows or give more data.")
    held = dataclasses.replace(pairs.take(_rows_with(pairs, set(order[:held_out_rows]))),
                               name=f"{pairs.name} (held out)")
    rest, _ = _untouched(pairs, held)
    rank = {a: i for i, a in enumerate(order)}
    rest = rest.take(sorted(range(len(rest)), key=lambda i: rank[rest.anchors[i]]))  # in the drawn order
    notes = []
    # 2. stage 2: the given rows (minus what touches the held-out set), or the next anchors of pairs
    if stage2 is None:
        left = [a for a in order[held_out_rows:] if a in set(rest.anchors)]
        picked = set(left[:stage2_rows])
        second = rest.take(_rows_with(rest, picked))
        rest = rest.take([i for i, a in enumerate(rest.anchors) if a not in picked])
    else:
        second, dropped = _untouched(stage2, held)
        if dropped:
            notes.append(f"{dropped} stage-2 row(s) share a text with the held-out rows and were left out.")
        if stage2_rows and len(second) > stage2_rows:
            second = second.take(np.sort(rng.choice(len(second), stage2_rows, replace=False)).tolist())
    # 3. stage 1: the rest, as pairs
    if stage1_rows and len(rest) > stage1_rows:
        rest = rest.take(list(range(stage1_rows)))
    first = dataclasses.replace(rest, negatives=None, name=f"{pairs.name} (stage 1)")
    if rest.negatives is not None:
        notes.append("Stage 1 trains on pairs with in-batch negatives only: the data's negatives are not used there.")
    second = dataclasses.replace(second, name=f"{second.name} (stage 2)")
    for part, what in ((first, "Stage 1"), (second, "Stage 2")):
        if len(part) < MIN_ROWS:
            raise DataError(f"{what} has {len(part)} row(s) left; it needs at least {MIN_ROWS}. Give more rows, "
                            "or hold out fewer.")
        try:
            check(part)
        except DataError as exc:
            raise DataError(f"{what}: {exc}") from None
    if held.negatives is None and mine_held:
        held = mine_negatives(held, method="bm25", seed=seed)
        notes.append("Held-out negatives mined with BM25 among the held-out positives (the same for every column).")
    return StageData(first, second, held, name=pairs.name, notes=(*pairs.notes, *notes))


def bbc_stages(*, held_out_rows: int, stage1_rows: int, stage2_rows: int, seed: int = 0) -> StageData:
    """BBC News title -> article. Held-out and stage-2 rows get the same-topic article BM25 ranks
    highest for the title as their hard negative (as ``bbc_triplets``): the held-out ones among the
    held-out articles, the stage-2 ones among the training articles (stage 1 and 2), so no held-out
    article is ever trained on, not even as a negative."""
    from embedlab.bundled import bbc_news

    df = bbc_news().drop_duplicates("text").drop_duplicates("title").reset_index(drop=True)
    pairs = TrainSet(df["title"].tolist(), df["text"].tolist(), groups=df["label"].tolist(), name="BBC News")
    data = split_stages(pairs, held_out_rows=held_out_rows, stage1_rows=stage1_rows, stage2_rows=stage2_rows,
                        seed=seed, mine_held=False)  # its own same-topic negatives below
    rng = np.random.default_rng(seed)
    held, second, first = data.held, data.stage2, data.stage1
    held_neg = same_topic_negatives(held.anchors, held.positives, held.groups, held.positives, held.groups, rng=rng)
    pool, pool_labels = [*second.positives, *first.positives], [*second.groups, *first.groups]
    second_neg = same_topic_negatives(second.anchors, second.positives, second.groups, pool, pool_labels, rng=rng)
    note = (f"BBC News title → article ({len(df):,} distinct articles, {df['label'].nunique()} topics, seed {seed}); "
            "held-out and stage-2 hard negatives: the same-topic article BM25 ranks highest for the title (held-out "
            "ones among the held-out articles, stage-2 ones among the training articles).")
    return StageData(first, dataclasses.replace(second, negatives=second_neg),
                     dataclasses.replace(held, negatives=held_neg), name="BBC News", notes=(note,))
