"""Fine-tuning page through its widgets: a small real run in the background, its results, the
model joining the zoo, a stopped run saving nothing, and bad uploads."""

import re
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
    name = at.text_input(key="ft_name").value  # the generated default, as a new user leaves it
    assert not at.warning, [w.value for w in at.warning]
    at.button(key="ft_start").click().run()
    assert not at.exception
    at = wait(at)
    assert [s.value for s in at.success if f"Saved **{name}**" in s.value]
    # the name box moved on to a free name: no "already exists" right after a success
    assert at.text_input(key="ft_name").value != name
    assert not [w.value for w in at.warning if "already exists" in w.value]
    assert not at.button(key="ft_start").disabled
    assert any("of training," in s.value and " in all." in s.value for s in at.success)  # result.duration
    # 100 BBC rows: MiniLM is already at the ceiling on the 50 held-out ones, and the page says so
    assert any("already at the ceiling on the 50 held-out rows" in w.value for w in at.warning)
    table = next(f.value for f in at.dataframe if "change" in f.value.columns)
    assert {"triplet accuracy", "nDCG@10", "MRR@10", "mean random-pair cosine"} <= set(table.index)
    assert ((table["after"] - table["before"] - table["change"]).abs() < 1e-9).all()
    charts = [c for c in at.get("plotly_chart")]
    assert len(charts) >= 5  # loss, bars, histograms, two maps
    saved = next(f.value for f in at.dataframe if "nDCG@10 after" in f.value.columns)
    assert name in saved.index and saved.loc[name, "kind"] == "embedder"
    # it is in the zoo: a fresh page (as after a restart) offers it as a base model
    from embedlab.models import available_models

    assert name in available_models()
    again = page()
    assert name in again.selectbox(key="ft_model").options


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


def test_auto_length_is_shown_and_a_number_overrides_it(tmp_home):
    at = page(ft_bbc_rows=100)
    assert at.selectbox(key="ft_maxlen").value == "auto"
    captions = [c.value for c in at.caption if c.value.startswith("Training length:")]
    # BBC articles are longer than MiniLM's 256 tokens: the choice is the model's maximum, and says so
    assert len(captions) == 1 and "max length 256 tokens (auto)" in captions[0]
    assert "capped at the model's maximum of 256" in captions[0]
    at.selectbox(key="ft_maxlen").set_value(64).run()
    assert not [c.value for c in at.caption if c.value.startswith("Training length:")]
    assert not at.warning and not at.exception


def test_the_default_name_is_generated_and_never_taken(tmp_home):
    from embedlab.finetune.saved import target_folder

    at = page(ft_bbc_rows=100)
    first = at.text_input(key="ft_name").value
    assert re.fullmatch(r"minilm-ft-\d{8}-\d{4}", first), first
    target_folder(first, "embedder").mkdir(parents=True)  # taken meanwhile (another tab, the CLI)
    at.run()
    second = at.text_input(key="ft_name").value
    assert second != first and re.fullmatch(r"minilm-ft-\d{8}-\d{4}(-2)?", second), second
    assert not at.warning
    # a typed name is kept; a taken one is refused with a free one offered
    at.text_input(key="ft_name").set_value("mine").run()
    assert at.text_input(key="ft_name").value == "mine" and not at.warning
    target_folder("mine", "embedder").mkdir(parents=True)
    at.run()
    assert any("'mine' already exists; choose another name (mine-2 is free)" in w.value for w in at.warning)
    assert at.button(key="ft_start").disabled


def test_the_lm_weight_is_offered_for_decoders_only():
    at = page(ft_bbc_rows=100)
    at.radio(key="ft_workflow").set_value("Hand-rolled PyTorch loop").run()
    assert "ft_lm_weight" not in [w.key for w in at.number_input]  # minilm: an encoder has no next-token head
    at.selectbox(key="ft_model").set_value("smollm2").run()
    at.number_input(key="ft_lm_weight").set_value(0.5).run()
    assert at.number_input(key="ft_lm_weight").value == 0.5 and not at.exception
