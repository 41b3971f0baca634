"""The Fine-tuning page's two-stage mode: a finished run's table and four maps (fast: the run's
result is made here, the page is real), and one tiny real run started from the page (slow)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from embedlab.finetune.evaluate import Evaluation
from embedlab.finetune.job import FinetuneResult
from embedlab.finetune.stages import (
    COLUMNS,
    TwoStageConfig,
    TwoStageJob,
    TwoStageResult,
)
from tests.app.views import open_view
from ui import finetune_stages, jobs

TWO = {"ft_mode": finetune_stages.TWO_STAGE}


def evaluation(seed: int, ndcg: float, **extra) -> Evaluation:
    rng = np.random.default_rng(seed)
    scores = {"nDCG@10": ndcg, "mean random-pair cosine": 0.1 * seed, **extra}
    return Evaluation(scores, np.zeros(30), np.zeros(30), rng.normal(size=(30, 8)), [f"doc {i}" for i in range(30)],
                      ["sport", "tech", "politics"] * 10)


def finished_result() -> TwoStageResult:
    config = TwoStageConfig()
    runs = {c: FinetuneResult(f"made{s}", "embedder", config.stage_config(1), None, 10, 30, 1.0, False,
                              evaluation(0, 0.5), evaluation(i, 0.5 + i / 10, perplexity=20.0 + i),
                              losses=((1, 2.0), (2, 1.0 / i)))
            for i, (c, s) in enumerate(zip(COLUMNS[1:], ("-stage1", "", "-stage2-only")), start=1)}
    return TwoStageResult("made", config, evaluation(0, 0.5), runs, ("data note",), (), 30, (100, 20),
                          total_seconds=12.0)


class Finished(TwoStageJob):
    """A two-stage job whose run is the result made above: the page's view of it is what is tested."""

    def _task(self) -> TwoStageResult:
        return finished_result()


def test_a_finished_run_shows_four_columns_any_extra_score_and_four_maps(tmp_home):
    jobs.start(Finished(TwoStageConfig(), None, "made"))
    jobs.wait_all(30)
    at = open_view("finetune", **TWO)
    assert not at.exception
    table = next(f.value for f in at.dataframe if "after stage 1+2" in f.value.columns and "nDCG@10" in f.value.index)
    assert list(table.columns) == list(COLUMNS) and "perplexity" in table.index  # a score only some columns have
    assert table.loc["nDCG@10"].round(4).tolist() == [0.5, 0.6, 0.7, 0.8]
    sizes = next(f.value for f in at.dataframe if "stage-1 rows" in f.value.index)
    assert sizes.loc["stage-2 rows"].tolist() == [0, 0, 20, 20]
    maps = [c for c in at.get("plotly_chart")]
    assert len(maps) == 7  # four maps and the loss curve of each training
    captions = " ".join(c.value for c in at.caption)
    assert "before 0.000 · after stage 1 0.100 · after stage 1+2 0.200 · stage 2 only 0.300" in captions
    assert "PCA map of each column's own vectors" in captions
    assert any("Saved **made-stage1, made, made-stage2-only**" in s.value for s in at.success)
    jobs.forget_finished()


@pytest.mark.slow
def test_a_tiny_two_stage_run_from_the_page(tmp_home):
    at = open_view("finetune", **TWO, ft2_held=20, ft2_s1_rows=16, ft2_s1_batch=8, ft2_s2_rows=10, ft2_s2_batch=5,
                   ft2_maxlen=32)
    name = at.text_input(key="ft2_name").value
    assert name == "minilm-2stage" and not at.warning
    at.button(key="ft2_start").click().run()
    start = time.time()
    while jobs.running() and time.time() - start < 900:
        time.sleep(1.0)
    at.run()
    assert not at.exception
    assert any(f"Saved **{name}-stage1, {name}, {name}-stage2-only**" in s.value for s in at.success)
    table = next(f.value for f in at.dataframe if "after stage 1+2" in f.value.columns and "nDCG@10" in f.value.index)
    assert table.notna().all().all()
    assert at.text_input(key="ft2_name").value == "minilm-2stage-2"  # the next run gets free names
    saved = next(f.value for f in at.dataframe if "nDCG@10 after" in f.value.columns)
    assert {name, f"{name}-stage1", f"{name}-stage2-only"} <= set(saved.index)
    # the one-run mode does not take the two-stage run for its own
    one = open_view("finetune", ft_mode=finetune_stages.ONE_RUN, ft_bbc_rows=100)
    assert not [s.value for s in one.success if "Saved" in s.value]
    assert not [f for f in one.dataframe if "after stage 1+2" in f.value.columns]
    jobs.forget_finished()
