"""Two-stage training without training: the split of the rows (disjoint!), the config's checks, the
names, the table, and the CLI's refusals."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.cli import main
from embedlab.errors import DataError, OptionError
from embedlab.finetune.evaluate import Evaluation
from embedlab.finetune.job import FinetuneResult
from embedlab.finetune.stagedata import bbc_stages, split_stages
from embedlab.finetune.stages import (
    COLUMNS,
    StageSettings,
    TwoStageConfig,
    TwoStageResult,
    check_names_free,
    free_stage_name,
    stage_names,
)
from embedlab.finetune.trainset import TrainSet


def pairs(n: int = 50, **extra) -> TrainSet:
    return TrainSet([f"question {i} about topic {i % 5}" for i in range(n)],
                    [f"answer {i} words topic {i % 5} text" for i in range(n)], name="syn", **extra)


def texts(data: TrainSet) -> set[str]:
    return set(data.anchors) | set(data.positives)


def test_split_sizes_and_every_part_disjoint():
    d = split_stages(pairs(50), held_out_rows=10, stage1_rows=0, stage2_rows=12, seed=3)
    assert (len(d.held), len(d.stage2), len(d.stage1)) == (10, 12, 28)  # stage 1: every row left
    assert not texts(d.held) & texts(d.stage1) and not texts(d.held) & texts(d.stage2)
    assert not texts(d.stage1) & texts(d.stage2)
    assert d.stage1.negatives is None and d.stage2.negatives is None  # stage 2 pairs: mined at run time
    # held-out negatives: BM25 among the held-out positives, never the row's own
    assert set(d.held.negatives) <= set(d.held.positives)
    assert all(n != p for n, p in zip(d.held.negatives, d.held.positives))
    # seeded: the same seed draws the same rows, another seed others
    again = split_stages(pairs(50), held_out_rows=10, stage1_rows=0, stage2_rows=12, seed=3)
    other = split_stages(pairs(50), held_out_rows=10, stage1_rows=0, stage2_rows=12, seed=4)
    assert again.held.anchors == d.held.anchors and other.held.anchors != d.held.anchors
    assert len(split_stages(pairs(50), held_out_rows=10, stage1_rows=15, stage2_rows=12).stage1) == 15


def test_a_positive_shared_with_a_held_out_row_never_trains():
    data = pairs(40)
    first = split_stages(data, held_out_rows=10, stage1_rows=0, stage2_rows=10, seed=0)
    held_row = data.anchors.index(first.held.anchors[0])
    train_row = data.anchors.index(first.stage1.anchors[0])
    data.positives[train_row] = data.positives[held_row]  # a training title of the held-out article
    d = split_stages(data, held_out_rows=10, stage1_rows=0, stage2_rows=10, seed=0)
    assert d.held.anchors == first.held.anchors  # the same anchors are drawn
    assert data.anchors[train_row] not in [*d.stage1.anchors, *d.stage2.anchors, *d.held.anchors]
    for part in (d.stage1, d.stage2):
        assert not texts(d.held) & texts(part)
    assert len(d.stage1) == len(first.stage1) - 1


def test_given_stage2_rows_that_touch_the_held_out_set_are_left_out_with_a_note():
    first = pairs(40)
    d0 = split_stages(first, held_out_rows=10, stage1_rows=0, stage2_rows=10, seed=0)
    leak = d0.held.anchors[0]
    second = TrainSet([leak, *[f"curated {i} topic" for i in range(12)]],
                      ["some other text", *[f"curated answer {i} words" for i in range(12)]],
                      ["neg"] * 13, name="curated")
    d = split_stages(first, second, held_out_rows=10, stage1_rows=0, stage2_rows=0, seed=0)
    assert leak not in d.stage2.anchors and len(d.stage2) == 12 and d.stage2.negatives is not None
    assert any("1 stage-2 row(s) share a text with the held-out rows" in n for n in d.notes)
    assert len(d.stage1) == 30  # with stage 2 from its own file, stage 1 is everything not held out
    assert len(split_stages(first, second, held_out_rows=10, stage1_rows=0, stage2_rows=10).stage2) == 10


def test_stage1_drops_given_negatives_and_says_so():
    data = pairs(40, negatives=[f"negative {i}" for i in range(40)])
    d = split_stages(data, held_out_rows=10, stage1_rows=0, stage2_rows=10)
    assert d.stage1.negatives is None and d.stage2.negatives is not None
    assert d.held.negatives == [f"negative {int(a.split()[1])}" for a in d.held.anchors]  # given ones kept
    assert any("in-batch negatives only" in n for n in d.notes)


def test_too_few_rows_are_refused_in_plain_words():
    with pytest.raises(DataError, match="cannot hold out 45"):
        split_stages(pairs(46), held_out_rows=45, stage1_rows=0, stage2_rows=10)
    with pytest.raises(DataError, match="Stage 1 has 4 row"):
        split_stages(pairs(30), held_out_rows=10, stage1_rows=0, stage2_rows=16)
    with pytest.raises(DataError, match="syn holds scored pairs; .* one run with CoSENT"):
        split_stages(pairs(30, scores=[i / 30 for i in range(30)]), held_out_rows=10, stage1_rows=0, stage2_rows=10)


def test_bbc_stages_are_disjoint_and_negatives_share_the_topic():
    d = bbc_stages(held_out_rows=60, stage1_rows=300, stage2_rows=50, seed=1)
    assert (len(d.held), len(d.stage2), len(d.stage1)) == (60, 50, 300)
    held_articles = set(d.held.positives)
    trained = set(d.stage1.positives) | set(d.stage2.positives) | set(d.stage2.negatives)
    assert not held_articles & trained  # no held-out article is trained on, not even as a negative
    assert not set(d.held.anchors) & (set(d.stage1.anchors) | set(d.stage2.anchors))
    assert set(d.held.negatives) <= held_articles
    assert set(d.stage2.negatives) <= set(d.stage1.positives) | set(d.stage2.positives)
    topic = dict(zip([*d.stage1.positives, *d.stage2.positives, *d.held.positives],
                     [*d.stage1.groups, *d.stage2.groups, *d.held.groups]))
    for part in (d.stage2, d.held):
        assert all(topic[n] == g and n != p for n, p, g in zip(part.negatives, part.positives, part.groups))


def test_config_checks_say_which_stage_and_what_to_do():
    assert TwoStageConfig().stage_config(1).batch_size == 64 and TwoStageConfig().stage_config(2).batch_size == 16
    assert TwoStageConfig(lora=True).stage_config(2).learning_rate == 1e-3  # the LoRA default
    assert TwoStageConfig(stage2=StageSettings(loss="triplet")).stage_config(2).loss == "triplet"
    with pytest.raises(OptionError, match="Stage 1 learns from pairs"):
        TwoStageConfig(stage1=StageSettings(loss="triplet"))
    with pytest.raises(OptionError, match="Stage 2: batch size must be between 2"):
        TwoStageConfig(stage2=StageSettings(batch_size=1))
    with pytest.raises(OptionError, match="Stage 1: epochs"):
        TwoStageConfig(stage1=StageSettings(epochs=0, batch_size=64))
    with pytest.raises(OptionError, match="Valid: bm25, model"):
        TwoStageConfig(stage2_mine="none")
    with pytest.raises(OptionError, match="number of tokens"):
        TwoStageConfig(max_length="auto")
    with pytest.raises(OptionError, match="held-out rows must be at least 2"):
        TwoStageConfig(held_out_rows=1)
    with pytest.raises(OptionError, match="Unknown pooling"):
        TwoStageConfig(pooling="nope")


def test_names_of_the_three_models(tmp_home):
    assert stage_names("run") == {"after stage 1": "run-stage1", "after stage 1+2": "run",
                                  "stage 2 only": "run-stage2-only"}
    with pytest.raises(OptionError, match="at most 52 characters"):
        stage_names("x" * 53)
    with pytest.raises(DataError, match="bundled or added model"):
        check_names_free("minilm")
    from embedlab.models.registry import finetuned_dir

    (finetuned_dir() / "run-stage2-only").mkdir(parents=True)
    with pytest.raises(DataError, match="run-stage2-only already exist"):
        check_names_free("run")
    assert check_names_free("run", overwrite=True)["after stage 1+2"] == "run"
    assert free_stage_name("run") == "run-2"


def _evaluation(**scores) -> Evaluation:
    return Evaluation(scores, np.zeros(2), None, np.zeros((2, 3)), ["a", "b"], ["g", "g"])


def _run(after: Evaluation, name: str, seconds: float) -> FinetuneResult:
    return FinetuneResult(name, "embedder", TwoStageConfig().stage_config(1), None, 10, 2, seconds, False,
                          _evaluation(), after)


def test_the_table_shows_every_score_any_column_has():
    runs = {"after stage 1": _run(_evaluation(**{"nDCG@10": 0.7, "perplexity": 12.0}), "r-stage1", 4.0),
            "after stage 1+2": _run(_evaluation(**{"nDCG@10": 0.8}), "r", 2.0),
            "stage 2 only": _run(_evaluation(**{"nDCG@10": 0.65}), "r-stage2-only", 1.5)}
    result = TwoStageResult("r", TwoStageConfig(), _evaluation(**{"nDCG@10": 0.6}), runs, (), (), 2, (40, 10))
    table = result.table()
    assert list(table.columns) == list(COLUMNS) and list(table.index) == ["nDCG@10", "perplexity"]
    assert table.loc["nDCG@10"].tolist() == [0.6, 0.7, 0.8, 0.65]
    assert table.loc["perplexity", "after stage 1"] == 12.0 and np.isnan(table.loc["perplexity", "before"])
    sizes = result.sizes()
    assert sizes.loc["stage-1 rows"].tolist() == [0, 40, 40, 0] and sizes.loc["stage-2 rows"].tolist() == [0, 0, 10, 10]
    assert sizes.loc["training seconds"].tolist() == [0.0, 4.0, 6.0, 1.5]  # stage 1+2 took both trainings
    assert result.to_dict()["scores"]["after stage 1+2"] == {"nDCG@10": 0.8}


@pytest.mark.parametrize("argv, message", [
    (["--stage2-rows", "10"], "--stage2-rows: only a two-stage run has these options; add --stages 2"),
    (["--stages", "2", "--cross-encoder"], "trains an embedder with the hand-rolled loop"),
    (["--stages", "2", "--workflow", "trainer"], "trains an embedder with the hand-rolled loop"),
    (["--stages", "2", "--stage1-batch-size", "1"], "Stage 1: batch size must be between 2"),
    (["--stages", "2", "--stage2-mine", "model", "--max-length", "auto", "--output", "y" * 60], "at most 52"),
    (["--stages", "2", "--stage2-data", "nope.csv"], "--stage2-data needs --data FILE"),
])
def test_cli_refuses_with_one_error_line(capsys, tmp_home, argv, message):
    argv = ["finetune", "--data", "bbc", *(["--output", "x"] if "--output" not in argv else []), *argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("error:") == 1 and "Traceback" not in err
