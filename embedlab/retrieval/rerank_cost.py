"""What a reranker costs per query on this machine, said before it runs.

Every reranker re-reads each of a query's top ``depth`` candidates, so its cost is
``depth x seconds per document``. The rate comes, best first, from:

1. the reranker itself, timed while it worked in this process (``TimedReranker``);
2. the encoding rate measured for the model it runs on (the Models page's "long texts/s":
   reading one article is what MaxSim does per candidate, and an upper bound for the LM judges,
   which read at most ``doc_tokens`` of it);
3. nothing: the caller says so in words instead of showing a made-up number.

How good 2. is (benchmarks/rerank_cost.py, BBC title queries, BM25's top 20, on the shared 2-core
machine): MaxSim over MiniLM took 3.0-3.6 s per query and the estimate said 0.56-0.76 of that; the
SmolLM2 judges took 49 s (qlm) and 24 s (llm) per query, estimated at 1.08x and 1.94x. So it gives
the order of magnitude before the first use; after it, the reranker's own time (1.) replaces it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from embedlab.durations import format_seconds
from embedlab.errors import ModelLoadError
from embedlab.retrieval.rerank import parse_reranker_name

ENCODER_KINDS = ("maxsim", "llm", "qlm")  # rerankers that run one of the zoo's models on every candidate


@dataclass(frozen=True)
class RerankCost:
    """Seconds per candidate document, and how that number was found (shown with it)."""

    seconds_per_doc: float
    basis: str

    def per_query(self, depth: int) -> float:
        return self.seconds_per_doc * depth

    def describe(self, depth: int, queries: int | None = None) -> str:
        """``about 0.91 s per query at depth 20 (…); about 4 min 33 s for 300 queries``."""
        text = f"about {format_seconds(self.per_query(depth))} per query at depth {depth} ({self.basis})"
        if queries:
            text += f"; about {format_seconds(self.per_query(depth) * queries)} for {queries:,} queries"
        return text


class TimedReranker:
    """A reranker that keeps the time it spent and the documents it scored; otherwise the same.

    The counts are guarded by a lock: a background evaluation and a search may share one instance."""

    def __init__(self, inner, *, clock: Callable[[], float] = time.perf_counter) -> None:
        self.inner = inner
        self.name = inner.name
        self._clock = clock
        self._lock = threading.Lock()
        self.seconds = 0.0
        self.documents = 0

    def score(self, query: str, docs: Sequence[str]) -> np.ndarray:
        start = self._clock()
        scores = self.inner.score(query, docs)
        spent = self._clock() - start
        with self._lock:
            self.seconds += spent
            self.documents += len(docs)
        return scores

    @property
    def cost(self) -> RerankCost | None:
        """None until it has scored a document."""
        with self._lock:
            if not self.documents:
                return None
            return RerankCost(self.seconds / self.documents,
                              f"measured here: {self.documents:,} documents in {format_seconds(self.seconds)}")


def underlying_model(name: str) -> str | None:
    """The zoo model a reranker runs on every candidate (``maxsim:minilm`` -> ``minilm``); None for a
    cross-encoder, whose speed no zoo measurement tells."""
    try:
        kind, target = parse_reranker_name(name)
    except ModelLoadError:
        return None
    return target if kind in ENCODER_KINDS else None


def estimate_cost(name: str, *, measured: RerankCost | None = None,
                  articles_per_s: Mapping[str, float] | None = None) -> RerankCost | None:
    """The best cost estimate for reranker ``name`` (see the module docstring); None when nothing
    measured tells it. ``articles_per_s``: model name -> long texts per second measured here."""
    if measured is not None:
        return measured
    model = underlying_model(name)
    rate = (articles_per_s or {}).get(model) if model else None
    if not rate or rate <= 0:
        return None
    return RerankCost(1.0 / rate, f"from {model}'s {rate:,.1f} articles/s measured on the Models page")
