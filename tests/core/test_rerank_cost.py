"""A reranker's cost per query: measured while it works, else from its model's measured rate, else
unknown (never a made-up number); and the app's default reranker is none."""

import numpy as np
import pytest

from embedlab.retrieval.rerank import DEFAULT_RERANKER, NO_RERANKER, reranker_choices
from embedlab.retrieval.rerank_cost import (
    RerankCost,
    TimedReranker,
    estimate_cost,
    underlying_model,
)


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class SlowFake:
    """Scores by text length; each call advances the fake clock 0.25 s per document."""

    name = "fake:slow"

    def __init__(self, clock):
        self.clock = clock

    def score(self, query, docs):
        self.clock.now += 0.25 * len(docs)
        return np.array([len(d) for d in docs], dtype=np.float32)


def test_timed_reranker_passes_scores_through_and_keeps_its_rate():
    clock = FakeClock()
    timed = TimedReranker(SlowFake(clock), clock=clock)
    assert timed.name == "fake:slow" and timed.cost is None  # nothing scored yet: no number
    np.testing.assert_array_equal(timed.score("q", ["a", "bbb"]), [1, 3])
    timed.score("q", ["cc", "d", "e", "f"])
    assert (timed.documents, timed.seconds) == (6, pytest.approx(1.5))
    cost = timed.cost
    assert cost.seconds_per_doc == pytest.approx(0.25)
    assert cost.per_query(20) == pytest.approx(5.0)
    assert cost.describe(20, 300) == ("about 5.0 s per query at depth 20 (measured here: 6 documents in 1.5 s); "
                                      "about 25 min 00 s for 300 queries")


def test_estimate_prefers_the_measurement_then_the_models_rate_then_nothing():
    rates = {"minilm": 20.0, "smollm2": 4.0}
    measured = RerankCost(0.1, "measured here")
    assert estimate_cost("maxsim:minilm", measured=measured, articles_per_s=rates) is measured
    from_rate = estimate_cost("maxsim:minilm", articles_per_s=rates)
    assert from_rate.seconds_per_doc == pytest.approx(0.05) and "minilm's 20.0 articles/s" in from_rate.basis
    assert estimate_cost("qlm:smollm2", articles_per_s=rates).per_query(10) == pytest.approx(2.5)
    assert estimate_cost("maxsim:mpnet", articles_per_s=rates) is None  # mpnet not measured
    assert estimate_cost("cross-encoder:mine", articles_per_s=rates) is None  # no zoo model tells its speed
    assert estimate_cost("maxsim:minilm", articles_per_s={"minilm": 0.0}) is None


def test_underlying_model():
    assert [underlying_model(n) for n in ("maxsim:minilm", "llm:smollm2", "qlm:smollm2", "ce:x", "none")] == [
        "minilm", "smollm2", "smollm2", None, None]


def test_reranking_is_opt_in():
    assert DEFAULT_RERANKER == NO_RERANKER == "none"
    assert NO_RERANKER not in reranker_choices() and reranker_choices()[:4] == [
        "maxsim:minilm", "maxsim:mpnet", "qlm:smollm2", "llm:smollm2"]
