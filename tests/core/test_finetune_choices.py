"""What a fine-tuning run decides for the user: the training length from the data, names that never
collide, the ceiling warning, and one duration everywhere. Known answers, no real model."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from embedlab.errors import DataError, OptionError
from embedlab.finetune.config import FinetuneConfig, parse_max_length
from embedlab.finetune.evaluate import ceiling_warning
from embedlab.finetune.length import choose_max_length, training_length
from embedlab.finetune.saved import check_name_free, default_name, free_name, publish, target_folder
from embedlab.finetune.timing import duration_text, round_seconds
from embedlab.finetune.trainset import TrainSet


class WordCounter:
    """A fake tokenizer: one token per word plus [CLS] and [SEP]; a query prompt adds two words."""

    def __init__(self, limit: int = 256, prompt: str = "") -> None:
        self.max_seq_length = limit
        self.prompt = prompt
        self.roles: list[str] = []

    def token_lengths(self, texts, *, role="document"):
        self.roles.append(role)
        prompt = self.prompt if role == "query" else ""
        return np.array([len((prompt + t).split()) + 2 for t in texts])


def words(n: int) -> str:
    return " ".join(["w"] * n)


def long_positives() -> TrainSet:
    """20 rows: anchors of 5 tokens, positives of 10, 20, …, 200 tokens."""
    return TrainSet([words(3)] * 20, [words(10 * k - 2) for k in range(1, 21)])


# ---- the training length ------------------------------------------------------------------------
def test_auto_length_is_the_95th_percentile_rounded_up_to_32():
    choice = choose_max_length(long_positives(), WordCounter())
    # np.percentile of 10..200 at 95: 190 + 0.05 * 10 = 190.5 -> 191 tokens -> 192 (6 x 32)
    assert choice.percentiles == {"anchors": 5, "positives": 191}
    assert choice.value == 192 and choice.limit == 256
    assert choice.reason == ("max length 192 tokens (auto): 95% of the anchors fit in 5 tokens and 95% of the "
                             "positives fit in 191 tokens; rounded up to a multiple of 32.")


def test_auto_length_is_capped_by_the_model_and_says_how_many_are_cut():
    choice = choose_max_length(long_positives(), WordCounter(limit=128))
    assert choice.value == 128
    # 130, 140, …, 200: 8 of the 20 positives are longer than 128 tokens
    assert "capped at the model's maximum of 128 (40% of the positives are longer and are cut)" in choice.reason


def test_short_texts_get_at_least_32_and_the_query_role_counts_the_prompt():
    data = TrainSet([words(40)] * 10, [words(3)] * 10, negatives=[words(4)] * 10)
    counter = WordCounter(prompt="query: please ")
    choice = choose_max_length(data, counter)
    assert counter.roles == ["query", "document", "document"]
    assert choice.percentiles == {"anchors": 44, "positives": 5, "negatives": 6} and choice.value == 64
    short = choose_max_length(TrainSet([words(3)] * 10, [words(4)] * 10), WordCounter())
    assert short.value == 32


def test_a_cross_encoder_reads_each_pair_as_one_sequence():
    choice = choose_max_length(long_positives(), WordCounter(), pairs=True)
    # anchor 5 + positive (10..200) - 1 shared [CLS]: 14..204, 95th percentile 194.5 -> 195 -> 224
    assert choice.percentiles == {"anchor + positive pairs": 195} and choice.value == 224


def test_an_explicit_number_wins_without_counting():
    class NoCounting:
        max_seq_length = 256

        def token_lengths(self, texts, *, role="document"):
            raise AssertionError("an explicit length must not tokenize the data")

    chosen = training_length(FinetuneConfig(max_length=48), long_positives(), NoCounting())
    assert chosen.value == 48 and chosen.reason == "max length 48 tokens (set by the user)."
    assert training_length(FinetuneConfig(), long_positives(), WordCounter()).value == 192  # the default is auto


def test_max_length_option_is_auto_or_a_number():
    assert FinetuneConfig().max_length == "auto"
    assert parse_max_length("auto") == "auto" and parse_max_length(" AUTO ") == "auto"
    assert parse_max_length("128") == 128
    with pytest.raises(OptionError, match="'auto' or a whole number of tokens, got 'long'"):
        parse_max_length("long")
    with pytest.raises(OptionError, match="max length must be 'auto' or between 8 and 8192"):
        FinetuneConfig(max_length="longest")
    with pytest.raises(OptionError, match="got 4"):
        FinetuneConfig(max_length=4)


# ---- names -------------------------------------------------------------------------------------
def test_default_names_are_dated_and_never_collide(tmp_home):
    now = dt.datetime(2025, 3, 4, 5, 6)
    first = default_name("minilm", "embedder", now=now)
    assert first == "minilm-ft-20250304-0506"
    target_folder(first, "embedder").mkdir(parents=True)
    assert default_name("minilm", "embedder", now=now) == "minilm-ft-20250304-0506-2"
    # a run still training under a name has no folder yet: it is passed as taken
    assert default_name("minilm", "embedder", now=now, taken={"minilm-ft-20250304-0506-2"}) == \
        "minilm-ft-20250304-0506-3"
    assert default_name("smollm2@mean", "reranker", now=now) == "smollm2-rr-20250304-0506"
    assert default_name("minilm", "reranker", now=now) == "minilm-rr-20250304-0506"  # rerankers live elsewhere


def test_a_taken_name_is_refused_with_a_free_one_offered(tmp_home):
    target_folder("mine", "embedder").mkdir(parents=True)
    with pytest.raises(DataError, match=r"named 'mine' already exists; choose another name \(mine-2 is free\) "
                                        "or delete it first"):
        check_name_free("mine", "embedder")
    assert check_name_free("mine", "embedder", overwrite=True) == "mine"
    with pytest.raises(DataError, match=r"bundled or added model; choose another name \(minilm-2 is free\)\.$"):
        check_name_free("minilm", "embedder", overwrite=True)  # a bundled model is never replaced
    assert free_name("x" * 64, "embedder", taken={"x" * 64}) == "x" * 62 + "-2"  # still a valid name


def test_publish_replaces_only_with_overwrite(tmp_home, tmp_path):
    final = target_folder("model", "embedder")
    final.mkdir(parents=True)
    (final / "weights").write_text("old")
    new = final.parent / ".tmp-model-1-deadbeef"
    new.mkdir()
    (new / "weights").write_text("new")
    with pytest.raises(DataError, match="appeared while training; the new model was not saved"):
        publish(new, final)
    assert (final / "weights").read_text() == "old"
    publish(new, final, overwrite=True)
    assert (final / "weights").read_text() == "new"
    assert sorted(p.name for p in final.parent.iterdir()) == ["model"]  # the old one is gone, nothing left over


# ---- the ceiling -------------------------------------------------------------------------------
def test_ceiling_warning_names_the_scores_and_suggests_more_rows():
    warning = ceiling_warning({"triplet accuracy": 0.9, "nDCG@10": 0.99}, 20)
    assert warning.startswith("The base model is already at the ceiling on the 20 held-out rows (nDCG@10 0.990)")
    assert "Hold out more rows" in warning
    assert "triplet accuracy 1.000" in ceiling_warning({"triplet accuracy": 1.0, "nDCG@10": 0.95}, 40)
    assert ceiling_warning({"triplet accuracy": 0.99, "nDCG@10": 0.979}, 40) is None
    assert ceiling_warning({"Spearman": 1.0}, 40) is None  # scored pairs: no retrieval ceiling to speak of


# ---- one duration ------------------------------------------------------------------------------
def test_durations_are_rounded_once_and_said_one_way():
    assert [round_seconds(s) for s in (4.04, 48.4, 192.6)] == [4.0, 48.0, 193.0]
    assert [duration_text(s) for s in (4.25, 48.4, 59.6, 192.2, 3900.0)] == \
        ["4.2 s", "48 s", "1 min 00 s", "3 min 12 s", "1 h 05 min"]


def test_the_monitor_training_clock_stops_when_training_ends(monkeypatch):
    from types import SimpleNamespace

    from embedlab.finetune import job

    clock = iter([10.0, 15.0, 20.0])
    monkeypatch.setattr(job, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    monitor = job.Monitor()
    monitor.start_training()  # 10
    monitor.on_step(1, 4, 0.5)  # the first step does not restart the clock (it reads no time)
    assert monitor.finish_training() == 5.0  # 15
    assert monitor.snapshot()["elapsed"] == 5.0  # read at 20: the live view shows the same training time


def test_the_run_says_when_it_holds_out_more_than_asked():
    from embedlab.finetune.job import prepare

    data = TrainSet([f"question {i}" for i in range(100)], [f"answer text {i}" for i in range(100)])
    train, held, notes = prepare(FinetuneConfig(), data)
    assert (len(train), len(held)) == (50, 50)
    assert "Held out 50 of 100 anchors (50%, not 20%): fewer than 100 held-out rows can hardly tell a change " \
           "from noise." in notes
    _, held, notes = prepare(FinetuneConfig(held_out=0.5), data)
    assert len(held) == 50 and not [n for n in notes if n.startswith("Held out")]


def test_cli_refuses_a_bad_length_and_an_existing_output_before_reading_data(tmp_home, capsys):
    from embedlab.cli import main

    assert main(["finetune", "--data", "nope.csv", "--output", "x", "--max-length", "long"]) == 2
    assert "max length must be 'auto' or a whole number of tokens, got 'long'" in capsys.readouterr()[1]
    target_folder("mine", "embedder").mkdir(parents=True)
    assert main(["finetune", "--data", "nope.csv", "--output", "mine"]) == 2
    err = capsys.readouterr()[1]
    assert "already exists. Pass --overwrite to replace it, or choose another name (mine-2 is free)." in err
    assert "nope.csv" not in err  # refused before the data is read
    assert main(["finetune", "--data", "nope.csv", "--output", "mine", "--overwrite"]) == 2
    assert "nope.csv" in capsys.readouterr()[1]  # with --overwrite the name passes; the missing file does not


def test_cli_refuses_an_lm_weight_outside_the_loop_before_reading_data(tmp_home, capsys):
    from embedlab.cli import main

    assert main(["finetune", "--data", "nope.csv", "--output", "x", "--lm-weight", "0.5"]) == 2
    err = capsys.readouterr()[1]
    assert err.startswith("error: lm_weight: only the hand-rolled loop has these options") and "nope.csv" not in err
