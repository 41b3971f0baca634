"""Fine-tuning page through its widgets: a small real run in the background, its results, the
model joining the zoo, a stopped run saving nothing, and bad uploads."""

import time

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.views import open_view

pytestmark = pytest.mark.slow


def page(**values) -> AppTest:
    return open_view("finetune", **values)


def wait(at: AppTest, limit: float = 900) -> AppTest:
    """Rerun the page until its job is finished (AppTest does not run fragments on a timer)."""
    from ui import jobs

    start = time.time()
    while jobs.running() and time.time() - start < limit:
        time.sleep(1.0)
    at.run()
    assert not at.exception, at.exception
    return at


def test_small_run_shows_before_after_and_joins_the_zoo(tmp_home):
    at = page(ft_bbc_rows=100, ft_maxlen=32, ft_batch=8)
    assert any("BBC News: 100 triplets" in m.value for m in at.markdown)
    at.text_input(key="ft_name").set_value("page-test").run()
    assert not at.warning, [w.value for w in at.warning]
    at.button(key="ft_start").click().run()
    assert not at.exception
    at = wait(at)
    assert [s.value for s in at.success if "Saved **page-test**" in s.value]
    table = next(f.value for f in at.dataframe if "change" in f.value.columns)
    assert {"triplet accuracy", "nDCG@10", "MRR@10", "mean random-pair cosine"} <= set(table.index)
    assert ((table["after"] - table["before"] - table["change"]).abs() < 1e-9).all()
    charts = [c for c in at.get("plotly_chart")]
    assert len(charts) >= 5  # loss, bars, histograms, two maps
    saved = next(f.value for f in at.dataframe if "nDCG@10 after" in f.value.columns)
    assert "page-test" in saved.index and saved.loc["page-test", "kind"] == "embedder"
    # it is in the zoo: a fresh page (as after a restart) offers it as a base model
    from embedlab.models import available_models

    assert "page-test" in available_models()
    again = page()
    assert "page-test" in again.selectbox(key="ft_model").options


def test_stop_saves_nothing(tmp_home):
    from ui import jobs

    at = page(ft_bbc_rows=200, ft_maxlen=32, ft_batch=4, ft_epochs=3.0)
    at.text_input(key="ft_name").set_value("stopped-run").run()
    at.button(key="ft_start").click().run()
    job = jobs.running()
    assert job is not None
    start = time.time()
    while job.monitor.snapshot()["step"] < 2 and time.time() - start < 600:
        time.sleep(0.5)
    job.monitor.stop()  # what the Stop button does; AppTest cannot click inside a timed fragment
    at = wait(at)
    assert job.status == "stopped"
    assert any("Stopped. Nothing was saved" in w.value for w in at.warning)
    from embedlab.models.registry import finetuned_dir

    assert not (finetuned_dir() / "stopped-run").exists()
    assert not [p for p in finetuned_dir().iterdir() if p.name.startswith(".tmp")]


def test_bad_uploads_get_clear_messages(tmp_path):
    at = page(ft_source="Upload pairs or triplets (CSV, TSV, JSONL, Parquet)")
    assert any("Upload a file of pairs or triplets" in i.value for i in at.info)
    one = pd.DataFrame({"anchor": ["q"], "positive": ["p"]}).to_csv(index=False).encode()
    at.session_state["ft_upload_kept"] = ("one.csv", one)
    at.run()
    assert any("needs at least 10" in e.value for e in at.error)
    cols = pd.DataFrame({"a": ["x"] * 20, "b": ["y"] * 20}).to_csv(index=False).encode()
    at.session_state["ft_upload_kept"] = ("cols.csv", cols)
    at.run()
    assert any("Could not find the training columns" in e.value for e in at.error)
    at.session_state["ft_upload_kept"] = ("bad.csv", b'anchor,positive\n"a,b\n')
    at.run()
    assert any("Could not read bad.csv" in e.value for e in at.error)
    good = pd.DataFrame({"query": [f"question {i}" for i in range(12)],
                         "answer": [f"answer {i}" for i in range(12)]}).to_csv(index=False).encode()
    at.session_state["ft_upload_kept"] = ("good.csv", good)
    at.run()
    assert not at.error and not at.exception
    assert at.radio(key="ft_mine").options == ["none", "bm25", "model"]
    # a loss that needs scores is refused before anything starts
    at.selectbox(key="ft_loss_trainer").set_value("cosent").run()
    assert any("CoSENT learns from scored pairs" in w.value for w in at.warning)
    assert at.button(key="ft_start").disabled


def test_learning_rate_follows_the_one_lora_default_until_set():
    from embedlab.finetune.config import LEARNING_RATE, LORA_LEARNING_RATE

    at = page(ft_bbc_rows=100)
    assert at.number_input(key="ft_lr").value == LEARNING_RATE
    at.radio(key="ft_workflow").set_value("Hand-rolled PyTorch loop").run()
    at.toggle(key="ft_lora").set_value(True).run()
    assert at.number_input(key="ft_lr").value == LORA_LEARNING_RATE  # the CLI's --lora default too
    at.number_input(key="ft_lr").set_value(2e-4).run()
    at.toggle(key="ft_lora").set_value(False).run()
    assert at.number_input(key="ft_lr").value == 2e-4  # the user's own rate is kept
    assert not at.exception and not at.warning
