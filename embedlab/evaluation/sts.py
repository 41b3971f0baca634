"""Semantic textual similarity, as MTEB scores it.

Follows mteb/_evaluators/any_sts_evaluator.py (embeddings-benchmark/mteb): encode both sides,
``cosine = 1 - paired_cosine_distances(e1, e2)``, then Spearman and Pearson of cosine against the
gold scores (mteb/abstasks/sts.py); the main score is the cosine Spearman. Gold-score rescaling in
MTEB is linear, so neither correlation depends on it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics.pairwise import paired_cosine_distances

from embedlab.embedder import Embedder, Progress
from embedlab.errors import DataError
from embedlab.evaluation._checks import (
    number_list,
    positive_int,
    same_length,
    text_list,
)


@dataclass(frozen=True)
class STSResult:
    model: str
    n_pairs: int
    cosine_spearman: float
    cosine_pearson: float

    def to_dict(self) -> dict:
        return asdict(self)


def check_pairs(sentences1: Sequence[str], sentences2: Sequence[str],
                gold: Sequence[float]) -> tuple[list[str], list[str], list[float]]:
    """Scored pairs as plain lists, checked before anything is embedded."""
    s1, s2 = text_list(sentences1, "sentences1"), text_list(sentences2, "sentences2")
    scores = number_list(gold, "scores")
    same_length(("sentences1", s1), ("sentences2", s2), ("scores", scores))
    _check_gold(np.asarray(scores))
    return s1, s2, scores


def _check_gold(gold: np.ndarray) -> None:
    if len(gold) < 3:
        raise DataError(f"STS needs at least 3 scored pairs, got {len(gold)}.")
    if np.ptp(gold) == 0:
        raise DataError("All gold scores are equal; a correlation is undefined.")


def sts_scores(emb1: np.ndarray, emb2: np.ndarray, gold: Sequence[float], *, model: str = "") -> STSResult:
    gold = np.asarray(gold, dtype=float)
    if len(emb1) != len(emb2) or len(emb1) != len(gold):
        raise DataError(f"Got {len(emb1)} and {len(emb2)} embeddings for {len(gold)} gold scores; "
                        "give one pair of embeddings per gold score.")
    _check_gold(gold)
    cosine = 1 - paired_cosine_distances(emb1, emb2)
    return STSResult(
        model=model,
        n_pairs=len(gold),
        cosine_spearman=float(spearmanr(gold, cosine).statistic),
        cosine_pearson=float(pearsonr(gold, cosine).statistic),
    )


def evaluate_sts(
    embedder: Embedder,
    sentences1: Sequence[str],
    sentences2: Sequence[str],
    gold: Sequence[float],
    *,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> STSResult:
    """Encode every distinct sentence once, then score the pairs."""
    positive_int(batch_size, "batch_size")
    unique = list(dict.fromkeys([*sentences1, *sentences2]))
    vectors = embedder.encode(unique, batch_size=batch_size, progress=progress)
    row = {text: i for i, text in enumerate(unique)}
    e1 = vectors[[row[s] for s in sentences1]]
    e2 = vectors[[row[s] for s in sentences2]]
    return sts_scores(e1, e2, gold, model=getattr(embedder, "name", ""))
