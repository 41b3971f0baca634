"""Long work goes on while the user looks elsewhere: start a run, visit two other pages in the same tab,
come back, and find the run further along, then its result, with every setting as it was."""

import re
import uuid

import pytest

from tests.e2e.conftest import SHOTS, SLOW
from tests.e2e.test_browser import explorer_uploader, wait_idle

pytestmark = pytest.mark.slow


def progress_value(page) -> float:
    """The job panel's progress bar, 0-100 (its aria value)."""
    bar = page.locator("[data-testid='stProgress'] [role='progressbar']").first
    bar.wait_for(timeout=SLOW)
    return float(bar.get_attribute("aria-valuenow") or 0)


def visit(page, title: str, heading: str) -> None:
    page.get_by_role("link", name=title).first.click()
    wait_idle(page, heading)


def test_an_explorer_run_goes_on_while_the_user_visits_other_pages(app_url, browser, tmp_path):
    from embedlab.bundled import bbc_news

    # Texts no earlier run has embedded (a fresh token on each), so MiniLM has real work to do.
    token = uuid.uuid4().hex[:8]
    frame = bbc_news()[["title", "label"]].head(1500).rename(columns={"title": "text"})
    frame["text"] = frame["text"] + f" ({token})"
    corpus = tmp_path / "titles.csv"
    frame.to_csv(corpus, index=False)

    page = browser.new_page(viewport={"width": 1500, "height": 2200})
    explorer_uploader(page, app_url).set_input_files(str(corpus))
    page.get_by_text("1,500 documents", exact=True).wait_for(timeout=SLOW)
    models = page.locator("[data-testid='stMultiSelect']").first
    models.locator("[aria-label*='Remove wordllama'], [title='Remove wordllama']").first.click()
    wait_idle(page, "Corpus explorer")
    page.get_by_text("Map and clustering settings").click()
    size = page.get_by_role("spinbutton", name="HDBSCAN min_cluster_size")
    size.fill("12")
    size.press("Enter")
    wait_idle(page, "Corpus explorer")
    page.get_by_text(re.compile(r"minilm: (about|[0-9,]+ documents to embed)")).first.wait_for(timeout=SLOW)
    # (the cost, said before the start)
    page.get_by_role("button", name="Run").click()
    first = progress_value(page)
    page.get_by_role("button", name="Stop").wait_for(timeout=SLOW)

    visit(page, "Similarity", "Similarity")
    visit(page, "Models", "Load and measure")
    visit(page, "Corpus explorer", "Corpus explorer")

    if page.get_by_role("tab", name="Map: minilm").count() == 0:  # still running: watch it move on
        page.wait_for_function(
            f"(() => {{ const bar = document.querySelector(\"[data-testid='stProgress'] [role='progressbar']\");"
            f" return bar ? Number(bar.getAttribute('aria-valuenow')) > {first}"
            f" : document.body.innerText.includes('finished in'); }})()", timeout=SLOW)
        if page.locator("[data-testid='stProgress']").count():
            page.screenshot(path=str(SHOTS / "explorer_background_progress.png"))
    page.get_by_role("tab", name="Map: minilm").wait_for(timeout=3 * SLOW)  # a loaded CI machine is slow
    wait_idle(page, "Corpus explorer")
    assert page.get_by_text("finished in", exact=False).count() >= 1
    # every setting as it was: the uploaded file, the model, the clustering setting
    assert page.get_by_text("1,500 documents", exact=True).count() >= 1
    assert page.get_by_text("uploaded earlier in this session", exact=False).count() == 1
    chosen = page.locator("[data-testid='stMultiSelect']").first.inner_text()
    assert "minilm" in chosen and "wordllama" not in chosen
    page.get_by_text("Map and clustering settings").click()  # drawn closed again after the page switches
    assert page.get_by_role("spinbutton", name="HDBSCAN min_cluster_size").input_value() == "12"
    page.screenshot(path=str(SHOTS / "explorer_background_done.png"), full_page=True)
    page.close()
