"""Every page driven through its widgets with Streamlit's AppTest (no browser)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.views import open_view, run_if_asked, run_job

pytestmark = pytest.mark.slow
TIMEOUT = 300
ROOT = Path(__file__).resolve().parents[2]


def page(path: str) -> AppTest:
    """``path`` = "app.py" or "pages/NAME.py", opened through the router as a user would."""
    return open_view("home" if path == "app.py" else path.removeprefix("pages/").removesuffix(".py"))


def computed(at: AppTest) -> AppTest:
    """The Similarity page with its vectors: from the cache at once, or after Compute and its job."""
    return run_if_asked(at, "sim_compute")


def table(at: AppTest, column: str):
    """The dataframe that has ``column`` (AppTest does not expose dataframe keys)."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with column {column!r}")


def test_app_router_opens_home_and_switches_pages():
    at = page("app.py")
    assert at.title[0].value == "embedlab"
    at.switch_page("pages/models.py").run()
    assert not at.exception and at.title[0].value == "Models"


def test_home_lists_the_bundled_models():
    at = page("app.py")  # home links to other pages, which only exist under the router
    text = " ".join(m.value for m in at.markdown)
    for name in ["minilm", "mpnet", "smollm2", "wordllama"]:
        assert f"`{name}`" in text


def test_home_links_every_page_and_names_every_command():
    from embedlab.cli import build_parser

    at = page("app.py")
    labels = [link.value for link in at.page_link]
    assert [label.split("**")[1].split(". ", 1)[1] for label in labels] == [
        "Models", "Similarity", "Corpus explorer", "Retrieval lab", "Fine-tuning", "Benchmark"]
    cli_line = next(c.value for c in at.caption if c.value.startswith("Command line"))
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse keeps subcommands here
    tasks = commands["eval"]._subparsers._group_actions[0].choices
    assert all(name in cli_line for name in commands) and all(task in cli_line for task in tasks)


def test_similarity_defaults_compare_three_models():
    at = computed(page("pages/similarity.py"))
    assert at.multiselect(key="sim_models").value == ["minilm", "minilm@cls", "smollm2"]
    kinds = table(at, "paraphrase − unrelated")
    assert list(kinds.index) == ["minilm", "minilm@cls", "smollm2"]
    # MiniLM separates paraphrases from unrelated pairs far better than raw decoder states.
    assert kinds.loc["minilm", "paraphrase − unrelated"] > kinds.loc["smollm2", "paraphrase − unrelated"]
    geometry = table(at, "mean cosine (random pairs)")
    cos = geometry["mean cosine (random pairs)"]
    assert cos["smollm2"] > cos["minilm@cls"] > cos["minilm"]
    assert (geometry["texts"] == 100).all()  # the geometry sample: 100 BBC titles keep the cold first view short
    agreement = table(at, "minilm@cls")
    assert agreement.shape == (3, 3) and agreement.loc["minilm", "minilm"] == pytest.approx(1.0)


def test_similarity_centering_and_geometry_source():
    at = page("pages/similarity.py")
    computed(at.multiselect(key="sim_models").set_value(["smollm2"]).run())
    raw = table(at, "mean cosine (random pairs)").loc["smollm2", "mean cosine (random pairs)"]
    at.toggle(key="sim_center").set_value(True).run()
    centered = table(at, "mean cosine (random pairs)").loc["smollm2", "mean cosine (random pairs)"]
    assert not at.exception and raw > 0.5 and abs(centered) < 0.1
    computed(at.radio(key="sim_geometry_source").set_value("The texts above").run())
    assert table(at, "mean cosine (random pairs)").loc["smollm2", "texts"] == 12


def test_similarity_two_texts_two_models():
    at = page("pages/similarity.py")
    at.radio(key="sim_source").set_value("Type or paste texts").run()
    at.text_area(key="sim_text").input("The cat sat.\nMarkets fell.").run()
    computed(at.multiselect(key="sim_models").set_value(["wordllama", "minilm"]).run())
    assert not at.exception
    assert any("needs at least 3 texts" in c.value for c in at.caption)


def test_similarity_typed_texts_and_a_bad_model_name():
    at = page("pages/similarity.py")
    at.radio(key="sim_source").set_value("Type or paste texts").run()
    at.text_area(key="sim_text").input("only one line").run()
    assert any("at least two texts" in i.value for i in at.info)
    at.text_area(key="sim_text").input("The cat sat.\nA cat was sitting.\nMarkets fell.").run()
    computed(at.multiselect(key="sim_models").set_value(["wordllama", "minilm@median"]).run())
    assert not at.exception
    assert any("minilm@median" in e.value and "Valid pooling modes" in e.value for e in at.error)
    # The model that did load still renders.
    assert list(table(at, "mean cosine (random pairs)").index) == ["wordllama"]


def test_models_page_measures_a_model():
    at = page("pages/models.py")
    at.selectbox(key="models_measure_name").set_value("wordllama")
    run_job(at, "models_measure_go")
    assert not at.exception
    catalog = table(at, "short texts/s")
    assert catalog.loc["wordllama", "short texts/s"] > 0
    assert catalog.loc["wordllama", "dim"] == 256
    assert any("long texts/s on this machine" in s.value for s in at.success)


def test_models_page_add_and_remove_a_custom_model(tmp_home):
    from embedlab import resolve_spec
    from embedlab.models.loader import model_folder

    at = page("pages/models.py")
    at.text_input(key="models_add_name").input("my-minilm")
    at.text_input(key="models_add_where").input("/no/such/folder")
    submit = next(b for b in at.button if b.label == "Add and test-load")
    submit.click().run()
    assert any("neither an existing folder" in e.value for e in at.error)

    at.text_input(key="models_add_where").input(str(model_folder(resolve_spec("minilm"))))
    at.selectbox(key="models_add_pooling").set_value("cls")
    next(b for b in at.button if b.label == "Add and test-load").click().run()
    assert not at.exception
    assert any("Added **my-minilm**" in s.value for s in at.success)
    at.run()
    catalog = table(at, "short texts/s")
    assert catalog.loc["my-minilm", "pooling"] == "cls" and catalog.loc["my-minilm", "source"] == "custom"
    at.selectbox(key="models_remove_name").set_value("my-minilm")
    at.button(key="models_remove_go").click().run()
    assert "my-minilm" not in table(at, "short texts/s").index


def test_models_page_reports_an_unreadable_registry(tmp_home):
    tmp_home.mkdir(parents=True, exist_ok=True)
    (tmp_home / "custom_models.json").write_text("[{broken")
    at = page("pages/models.py")
    assert not at.exception
    assert any("cannot be read" in w.value for w in at.warning)
    assert "minilm" in table(at, "short texts/s").index  # the bundled models are still listed


def fresh_view() -> AppTest:
    """The Similarity page opened on three typed texts no earlier run can have cached, measured on
    themselves, with wordllama (set before the page's first run, as a user's kept settings are)."""
    import uuid

    fresh = uuid.uuid4().hex
    return open_view("similarity", sim_source="Type or paste texts", sim_models=["wordllama"],
                     sim_text=f"A cat {fresh}.\nA kitten {fresh}.\nStock markets {fresh}.",
                     sim_geometry_source="The texts above")


def has_geometry(at: AppTest) -> bool:
    return any("mean cosine (random pairs)" in f.value.columns for f in at.dataframe)


def test_a_light_view_on_a_cold_cache_starts_by_itself_in_the_background():
    from ui import jobs

    at = fresh_view()
    assert not at.exception and not has_geometry(at)  # not computed inside the page's run
    assert jobs.latest("similarity") is not None  # ... but started without a click
    jobs.wait_all(600)
    at.run()
    assert list(table(at, "mean cosine (random pairs)").index) == ["wordllama"]


def test_a_heavy_view_waits_for_compute_with_its_cost_said_first(tmp_home):
    from embedlab import estimate
    from ui import jobs
    from ui.models import get_model

    # This machine (the test's data folder) remembers wordllama as very slow: the view is not light.
    estimate.remember_rate(get_model("wordllama"), tokens=1.0, seconds=1000.0, source="test")
    at = fresh_view()
    assert [b.key for b in at.button if b.key == "sim_compute"] == ["sim_compute"]
    assert jobs.latest("similarity") is None and not has_geometry(at)
    assert any(c.value.startswith("wordllama: about") for c in at.caption)  # the cost, before the start
    computed(at)
    assert list(table(at, "mean cosine (random pairs)").index) == ["wordllama"]
