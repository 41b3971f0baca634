"""The background job model: progress through sections, stop, failure, ETA; and cost estimates."""

import threading
import time

import numpy as np
import pytest

from embedlab import estimate
from embedlab.cache import CachedEmbedder, EmbeddingCache
from embedlab.errors import DataError
from embedlab.jobs import Job
from tests.fakes import CountingEmbedder


def test_sections_and_progress_move_one_bar_and_the_result_is_kept():
    seen = []
    gate = threading.Event()

    def task(ctx):
        ctx.section(0.0, 0.5, "first half")
        ctx.progress(1, 2)
        seen.append(ctx._job.snapshot().fraction)
        ctx.section(0.5, 1.0, "second half")
        ctx.progress(1, 4, "a quarter of it")
        seen.append(ctx._job.snapshot())
        gate.wait(5)
        return 42

    job = Job("t", "Test job", task).start()
    for _ in range(500):
        if len(seen) == 2:
            break
        time.sleep(0.01)
    snap = seen[1]
    assert seen[0] == pytest.approx(0.25)
    assert snap.fraction == pytest.approx(0.625) and snap.text == "a quarter of it" and snap.running
    assert snap.log == ("first half", "second half")
    gate.set()
    job.wait(5)
    final = job.snapshot()
    assert (final.status, final.fraction, final.eta, job.result) == ("done", 1.0, None, 42)


def test_a_stop_takes_effect_at_the_next_report_and_keeps_what_the_task_returns():
    started = threading.Event()
    go_on = threading.Event()

    def task(ctx):
        done = []
        started.set()
        go_on.wait(5)
        try:
            for i in range(100):
                ctx.progress(i, 100)
                done.append(i)
        except Exception:  # noqa: BLE001 - the Stopped raised by progress
            return done
        return done

    job = Job("t", "Stoppable", task).start()
    started.wait(5)
    job.stop()
    assert job.snapshot().status == "stopping"
    go_on.set()
    job.wait(5)
    assert job.snapshot().status == "stopped" and job.result == []


def test_a_failure_is_reported_with_its_message():
    def task(ctx):
        raise DataError("The column 'text' is empty.")

    job = Job("t", "Failing", task).start().wait(5)
    assert job.snapshot().status == "failed" and job.error == "The column 'text' is empty."
    assert job.snapshot().text.startswith("Failed: The column")


def test_eta_from_the_estimate_first_then_from_the_runs_own_pace():
    job = Job("t", "Paced", lambda ctx: None, estimate_seconds=100.0)
    assert job._eta(0.0, 30.0) == pytest.approx(70.0)
    assert job._eta(0.05, 130.0) == 0.0  # over the estimate: never negative
    assert job._eta(0.5, 30.0) == pytest.approx(30.0)  # half done in 30 s: 30 s left
    assert Job("t", "Unknown", lambda ctx: None)._eta(0.05, 10.0) is None


class Tokenised(CountingEmbedder):
    max_seq_length = 6

    def token_lengths(self, texts, *, role="document"):
        return np.array([len(t.split()) for t in texts])


def test_an_estimate_counts_only_uncached_texts_at_the_remembered_speed(tmp_home):
    model = CachedEmbedder(Tokenised(name="fake"), EmbeddingCache(tmp_home / "cache"))
    texts = ["one two three four", "five six", "seven eight nine ten eleven twelve thirteen", "five six"]
    unknown = estimate.estimate_encode(model, texts)
    assert (unknown.texts, unknown.to_encode, unknown.seconds) == (4, 3, None)
    assert "not known yet" in unknown.describe()
    estimate.remember_rate(model, tokens=100, seconds=2.0, source="test")  # 50 tokens/s
    model.encode(texts[:1])
    known = estimate.estimate_encode(model, texts)
    # two texts left: 2 tokens, and 7 cut to the model's 6 -> 8 tokens at 50 tokens/s
    assert known.to_encode == 2 and known.seconds == pytest.approx(8 / 50)
    assert known.describe("documents").startswith("fake: about 0.16 s for 2 documents (2 already embedded)")
    model.encode(texts)
    assert estimate.estimate_encode(model, texts).describe() == "fake: all 4 texts already embedded (from the cache)"


def test_too_short_runs_are_not_remembered_and_a_damaged_file_is_ignored(tmp_home):
    model = Tokenised(name="fake")
    assert estimate.remember_rate(model, tokens=100, seconds=0.1, source="test") is None
    assert estimate.remembered_rate(model) is None
    (tmp_home / estimate.RATES_FILE).write_text("{not json")
    assert estimate.remembered_rate(model) is None
    assert estimate.remember_rate(model, tokens=300, seconds=3.0, source="test").tokens_per_s == pytest.approx(100)
    assert estimate.remembered_rate(model).source == "test"
    estimate.remember_pace("map", units=1000, seconds=4.0)
    assert estimate.remembered_pace("map") == pytest.approx(0.004)
    assert estimate.remembered_rate(model).tokens_per_s == pytest.approx(100)  # kept beside the pace
