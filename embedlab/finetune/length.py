"""How many tokens per text to train with, when the user leaves it to the data.

A fixed short length quietly cuts long positives (abstracts, articles): the model then learns to
match queries to the first few sentences only. A fixed long one makes short-pair runs pay for
padding they never use. So "auto" looks at the data, with the base model's own tokenizer:

    the 95th percentile of each text column's token count (prompt and special tokens included),
    the longest of those, rounded up to a multiple of 32, capped at the model's maximum length.

A cross-encoder reads (anchor, text) as one sequence, so its columns are the per-row sums.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from embedlab.finetune.config import AUTO_LENGTH, FinetuneConfig
from embedlab.finetune.trainset import TrainSet

PERCENTILE = 95
ROUND_TO = 32  # tokens; also the smallest choice


@dataclass(frozen=True)
class LengthChoice:
    value: int  # tokens per text (per pair for a cross-encoder) while training
    percentiles: dict[str, int]  # the 95th percentile of each column's token count
    limit: int  # the base model's maximum length
    reason: str  # one sentence for the CLI, the page and the saved record


def choose_max_length(data: TrainSet, model, *, pairs: bool = False) -> LengthChoice:
    """The training length for ``data`` with ``model`` (anything with ``token_lengths(texts,
    role=...)`` and ``max_seq_length``); ``pairs`` for a cross-encoder."""
    columns = {"anchors": ("query", data.anchors), "positives": ("document", data.positives)}
    if data.negatives is not None:
        columns["negatives"] = ("document", data.negatives)
    counts = {name: np.asarray(model.token_lengths(texts, role=role)) for name, (role, texts) in columns.items()}
    if pairs:  # [CLS] anchor [SEP] text [SEP]: the two counts share one [CLS]
        anchors = counts.pop("anchors")
        counts = {f"anchor + {name[:-1]} pairs": anchors + c - 1 for name, c in counts.items()}
    percentiles = {name: int(math.ceil(np.percentile(c, PERCENTILE))) for name, c in counts.items()}
    longest = max(percentiles, key=percentiles.get)
    limit = int(model.max_seq_length)
    rounded = max(ROUND_TO, int(math.ceil(percentiles[longest] / ROUND_TO)) * ROUND_TO)
    value = min(rounded, limit)
    seen = " and ".join(f"{PERCENTILE}% of the {name} fit in {p} tokens" for name, p in percentiles.items())
    if rounded > limit:
        why = f"capped at the model's maximum of {limit}"
        cut = float(np.mean(counts[longest] > limit))
        why += f" ({cut:.0%} of the {longest} are longer and are cut)"
    else:
        why = f"rounded up to a multiple of {ROUND_TO}"
    return LengthChoice(value, percentiles, limit, f"max length {value} tokens (auto): {seen}; {why}.")


def explicit_length(value: int) -> LengthChoice:
    return LengthChoice(value, {}, value, f"max length {value} tokens (set by the user).")


def training_length(config: FinetuneConfig, data: TrainSet, base) -> LengthChoice:
    """The config's max length, or with "auto" the one ``data`` needs with ``base``'s tokenizer."""
    if config.max_length != AUTO_LENGTH:
        return explicit_length(int(config.max_length))
    return choose_max_length(data, base, pairs=config.kind == "reranker")
