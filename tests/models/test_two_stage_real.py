"""Two-stage training with the bundled models on a few BBC rows: three models join the zoo with their
records and embed as they were measured; a stop or a failure publishes nothing; the CLI's table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedlab.cli import main
from embedlab.finetune.job import RECORD_FILE, Monitor
from embedlab.finetune.stagedata import bbc_stages
from embedlab.finetune.stages import (
    COLUMNS,
    StageSettings,
    TwoStageConfig,
    run_two_stage,
)

pytestmark = pytest.mark.slow
SIZES = dict(held_out_rows=20, stage1_rows=24, stage2_rows=12, seed=2)
TINY = TwoStageConfig(max_length=32, stage1=StageSettings(batch_size=8), stage2=StageSettings(batch_size=6), **SIZES)


@pytest.fixture(scope="module")
def data():
    return bbc_stages(**SIZES)


def leftovers():
    from embedlab.models.registry import finetuned_dir

    return sorted(p.name for p in finetuned_dir().iterdir())


def test_minilm_two_stages_publish_three_measured_models(tmp_home, data):
    from embedlab.models import available_models, load_model

    result = run_two_stage(TINY, data, "two")
    assert not result.stopped and list(result.table().columns) == list(COLUMNS)
    assert leftovers() == ["two", "two-stage1", "two-stage2-only"]  # no temporary folder left
    steps = {c: len(r.losses) for c, r in result.runs.items()}
    assert steps == {"after stage 1": 3, "after stage 1+2": 2, "stage 2 only": 2}  # 24 / 8, 12 / 6: per stage
    assert result.sizes().loc["stage-1 rows"].tolist() == [0, 24, 24, 0]
    for column, run in result.runs.items():
        record = json.loads((run.path / RECORD_FILE).read_text())
        assert record["two_stage"]["column"] == column and record["after"] == run.after.scores
        assert record["before"] == result.before.scores and record["train_rows"] == (24 if column == COLUMNS[1] else 12)
        assert run.name in available_models()
    # the published model embeds the held-out documents as it was measured
    again = load_model("two", cache=False).encode(result.runs["after stage 1+2"].after.doc_texts[:5], role="document")
    assert np.allclose(again, result.runs["after stage 1+2"].after.doc_vectors[:5], atol=1e-5)
    # stage 2 trained on top of stage 1 is not stage 2 from the base
    both, alone = (result.runs[c].after.doc_vectors for c in ("after stage 1+2", "stage 2 only"))
    assert not np.allclose(both, alone, atol=1e-3)


class StopInStage2(Monitor):
    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.runs, self.fail = 0, fail

    def new_run(self) -> None:
        super().new_run()
        self.runs += 1

    def on_step(self, step: int, total: int, loss: float) -> None:
        super().on_step(step, total, loss)
        if self.runs == 2 and self.fail:
            raise RuntimeError("disk full")  # what a failing stage raises, as the real loop would pass it on
        if self.runs == 2:
            self.stop()


def test_stop_or_failure_in_stage_2_publishes_nothing(tmp_home, data):
    result = run_two_stage(TINY, data, "stopped", StopInStage2())
    assert result.stopped and leftovers() == [] and "after stage 1" in result.runs
    assert all(r.path is None for r in result.runs.values())
    with pytest.raises(RuntimeError, match="disk full"):
        run_two_stage(TINY, data, "failed", StopInStage2(fail=True))
    assert leftovers() == []


def test_smollm2_weighted_mean_lora_two_stages(tmp_home):
    config = TwoStageConfig(model="smollm2", pooling="weighted-mean", lora=True, max_length=32,
                            stage1=StageSettings(batch_size=5), stage2=StageSettings(batch_size=5),
                            held_out_rows=6, stage1_rows=10, stage2_rows=10)
    data = bbc_stages(held_out_rows=6, stage1_rows=10, stage2_rows=10)
    result = run_two_stage(config, data, "smol2")
    assert {len(r.losses) for r in result.runs.values()} == {2}
    assert leftovers() == ["smol2", "smol2-stage1", "smol2-stage2-only"]
    from embedlab.models import available_models

    for run in result.runs.values():  # LoRA merged at every save: plain weights, measured with its pooling
        assert available_models()[run.name].pooling == "weighted-mean"
        assert not (run.path / "adapter_config.json").exists()
    assert result.table().loc["mean random-pair cosine"].notna().all()
    both, alone = (result.runs[c].after.doc_vectors for c in ("after stage 1+2", "stage 2 only"))
    assert not np.allclose(both, alone, atol=1e-4)


def test_cli_prints_the_four_columns_and_json(tmp_home, capsys):
    argv = ["finetune", "--stages", "2", "--data", "bbc", "--output", "cli2", "--max-length", "32",
            "--held-out-rows", "20", "--stage1-rows", "16", "--stage2-rows", "10", "--stage1-batch-size", "8",
            "--stage2-batch-size", "5", "--stage2-loss", "triplet"]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out["scores"]) == list(COLUMNS) and out["stage1_rows"] == 16 and out["stage2_rows"] == 10
    assert out["models"]["stage 2 only"]["name"] == "cli2-stage2-only" and out["config"]["stage2"]["loss"] == "triplet"
    assert main(argv) == 2 and "already exist" in capsys.readouterr().err
