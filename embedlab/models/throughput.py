"""Measure a loaded model on this machine: size, load time, texts per second, and how much it truncates."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

from embedlab import bundled
import numpy as np

from embedlab.cache import CachedEmbedder
from embedlab.estimate import remember_rate

MeasureProgress = Callable[[str, int, int], None]
"""``progress(kind, done, total)``: kind is "short" or "long", as each set of texts is encoded."""


@dataclass(frozen=True)
class Throughput:
    dim: int
    parameters: int
    load_seconds: float  # the first load in this process, file preparation included
    max_seq_length: int
    short_per_s: float  # texts per second on the short texts
    long_per_s: float
    truncated_share: float  # share of the long texts with more tokens than max_seq_length
    tokens_per_s: float = 0.0  # on the long texts, tokens as encoded (cut at max_seq_length)


def sample_texts(n: int, *, seed: int = 1) -> tuple[list[str], list[str]]:
    """``n`` BBC News articles as short texts (their titles) and long texts (their bodies)."""
    articles = bundled.bbc_news().sample(n=n, random_state=seed)
    return articles["title"].tolist(), articles["text"].tolist()


def measure_throughput(model, short_texts: Sequence[str], long_texts: Sequence[str], *,
                       progress: MeasureProgress | None = None) -> Throughput:
    """Encode both sets once and time them. The embedding cache is bypassed: it would time the disk."""
    raw = model.inner if isinstance(model, CachedEmbedder) else model
    rates, seconds = {}, {}
    for kind, texts in (("short", list(short_texts)), ("long", list(long_texts))):
        relay = (lambda done, total, kind=kind: progress(kind, done, total)) if progress else None
        start = time.perf_counter()
        raw.encode(texts, progress=relay)
        seconds[kind] = time.perf_counter() - start
        rates[kind] = len(texts) / seconds[kind]
    lengths = raw.token_lengths(list(long_texts))
    tokens = float(np.minimum(lengths, raw.max_seq_length).sum())
    remember_rate(raw, tokens=tokens, seconds=seconds["long"], source="Models page")  # for cost estimates
    return Throughput(dim=raw.dim, parameters=raw.parameters, load_seconds=raw.load_seconds,
                      max_seq_length=raw.max_seq_length, short_per_s=rates["short"], long_per_s=rates["long"],
                      truncated_share=float((lengths > raw.max_seq_length).mean()),
                      tokens_per_s=tokens / seconds["long"])
