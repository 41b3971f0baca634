"""Start the real app and drive it in headless Chromium (Debian's package, via Playwright)."""

import re
import time

import pytest

from tests.e2e.conftest import SHOTS, SLOW, App

pytestmark = pytest.mark.slow


def wait_idle(page, heading: str) -> None:
    page.get_by_role("heading", name=heading).first.wait_for(timeout=SLOW)
    # Streamlit shows a "Running…" status widget while the script runs.
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=SLOW)
    assert page.locator("[data-testid='stException']").count() == 0, page.locator("[data-testid='stException']").first.inner_text()


def explorer_uploader(page, app_url: str):
    """The explorer opened on "Upload a file", and its corpus uploader once the radio's rerun has drawn it (a
    file given to the uploader of the run before is lost). In a new tab of the same server the last run's file
    may already be in use."""
    page.goto(f"{app_url}/explorer")
    wait_idle(page, "Corpus explorer")
    page.get_by_text("Upload a file").click()
    page.get_by_text("Upload a file to explore it").or_(page.get_by_text("uploaded earlier in this session")) \
        .first.wait_for(timeout=SLOW)
    wait_idle(page, "Corpus explorer")
    return page.locator("input[type=file]").first  # the corpus uploader; the vectors uploader comes after it


def computed(page, ready=None) -> None:
    """The Similarity page with its charts: at once when its vectors are cached, else after Compute.
    ``ready``: what shows the page has drawn the new texts (default: the Geometry heading)."""
    compute = page.get_by_role("button", name="Compute")
    ready = ready if ready is not None else page.get_by_role("heading", name="Geometry")
    ready.or_(compute).first.wait_for(timeout=SLOW)
    if compute.count() and compute.first.is_enabled():  # disabled: a light view started by itself
        compute.click()
    ready.first.wait_for(timeout=SLOW)
    wait_idle(page, "Geometry")


def test_similarity_page_three_models_and_typed_texts(app_url, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1500, "height": 2600})
    page.goto(f"{app_url}/similarity")
    computed(page)
    assert page.locator(".js-plotly-plot").count() >= 3  # heatmaps, difference, geometry charts
    body = page.locator("[data-testid='stMain']").inner_text()
    for name in ["minilm", "minilm@cls", "smollm2"]:
        assert name in body
    page.screenshot(path=str(SHOTS / "similarity.png"))

    page.get_by_text("Type or paste texts").click()
    box = page.get_by_label("One text per line")
    box.wait_for(timeout=SLOW)
    box.fill("The cat sat on the mat.\nA cat was sitting on the rug.\nShares fell sharply today.")
    box.press("Control+Enter")
    computed(page, page.get_by_text("3. Shares fell sharply"))
    page.close()


def test_models_page_load_and_measure(app_url, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1400})
    page.goto(app_url)
    wait_idle(page, "embedlab")
    page.get_by_role("link", name="Models").first.click()
    wait_idle(page, "Load and measure")
    page.get_by_role("button", name="Load and measure").click()
    page.get_by_text("long texts/s on this machine", exact=False).first.wait_for(timeout=SLOW)
    page.screenshot(path=str(SHOTS / "models.png"))
    page.close()


def test_explorer_upload_good_and_malformed_files(app_url, browser, tmp_path):
    from tests.fakes import topic_corpus

    good = tmp_path / "topics.csv"
    topic_corpus().to_csv(good, index=False)
    bad = tmp_path / "broken.csv"
    bad.write_text("text,label\nfine,a\nthis,row,has,too,many\n")

    page = browser.new_page(viewport={"width": 1500, "height": 2200})
    explorer_uploader(page, app_url).set_input_files(str(bad))
    page.get_by_text("Could not use broken.csv").wait_for(timeout=SLOW)

    page.locator("input[type=file]").first.set_input_files(str(good))
    page.get_by_text("60 documents", exact=True).wait_for(timeout=SLOW)
    assert page.get_by_text("Could not use").count() == 0
    page.get_by_role("button", name="Run").click()
    page.get_by_role("tab", name="Compare").wait_for(timeout=SLOW)
    wait_idle(page, "Corpus explorer")
    page.locator(".js-plotly-plot").first.wait_for(timeout=SLOW)  # the first model's map is drawn
    page.get_by_role("tab", name="Compare").click()
    page.get_by_text("Mean neighbourhood agreement").wait_for(timeout=SLOW)
    page.screenshot(path=str(SHOTS / "explorer_compare.png"))
    page.close()


def test_retrieval_search_rerank_and_late_interaction(app_url, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 2400})
    page.goto(f"{app_url}/retrieval")
    wait_idle(page, "Retrieval lab")
    page.get_by_text("documents · 2,125 queries").first.wait_for(timeout=SLOW)
    # Only the fast static model, so a fresh machine does not embed 2,089 articles with MiniLM here.
    page.locator("[data-testid='stMultiSelect'] [aria-label*='Remove minilm'], "
                 "[data-testid='stMultiSelect'] [title='Remove minilm']").first.click()
    wait_idle(page, "Retrieval lab")
    # Reranking is opt-in: choose MaxSim over MiniLM (its cost is said under the choice).
    page.locator("[data-testid='stSelectbox']").filter(has_text="Reranker").click()
    page.get_by_role("option", name="maxsim:minilm", exact=True).click()
    wait_idle(page, "Retrieval lab")
    page.get_by_text("maxsim:minilm is slow").or_(page.get_by_text("maxsim:minilm costs about")).first.wait_for(
        timeout=SLOW)
    page.get_by_label("Query", exact=True).fill("Yukos oil tax dispute")
    page.get_by_label("Query", exact=True).press("Enter")
    wait_idle(page, "Retrieval lab")
    page.get_by_text("maxsim:minilm rereads the top 20 for this query").wait_for(timeout=SLOW)  # the cost, said first
    page.get_by_role("button", name="Search").click()  # reranking runs as a background job
    page.get_by_text("maxsim:minilm (top 20 reranked").wait_for(timeout=SLOW)
    body = page.locator("[data-testid='stMain']").inner_text()
    assert "hybrid(wordllama + BM25)" in body
    page.screenshot(path=str(SHOTS / "retrieval_search.png"), full_page=True)
    page.get_by_role("tab", name="Late interaction").click()
    page.get_by_text("MaxSim score").wait_for(timeout=SLOW)  # the search query against the picked document
    page.close()


def test_finetune_live_view_results_and_restart(browser):
    """Train a small MiniLM in the background, watch the live view, then restart the server and
    find the model still listed and usable."""
    import shutil as sh

    from embedlab.models.registry import finetuned_dir

    name = f"e2e-{int(time.time())}"
    app = App()
    try:
        page = browser.new_page(viewport={"width": 1500, "height": 2400})
        page.goto(f"{app.url}/finetune")
        wait_idle(page, "Fine-tuning")
        slider = page.get_by_role("slider").first  # rows: 500 -> 100
        slider.focus()
        for _ in range(2):  # 200 rows: 100 held out (the minimum), 100 to train, 7 steps, long enough to watch
            slider.press("ArrowLeft")
        wait_idle(page, "Fine-tuning")
        page.get_by_text("BBC News: 200 triplets").wait_for(timeout=SLOW)
        page.get_by_label("Max tokens per text", exact=True).click()  # a choice: auto (the default) or a number
        page.get_by_role("option", name="64", exact=True).click()
        wait_idle(page, "Fine-tuning")
        page.get_by_label("Save as", exact=True).fill(name)
        page.get_by_label("Save as", exact=True).press("Enter")
        wait_idle(page, "Fine-tuning")
        page.get_by_role("button", name="Start fine-tuning").click()
        page.get_by_text("Training on 100 rows").wait_for(timeout=SLOW)
        # the fragment refreshes on its own: wait until it shows a few steps done
        page.wait_for_function("/step [3-7] \\/ 7/.test(document.body.innerText)", timeout=SLOW)
        assert page.get_by_role("button", name="Stop").count() == 1
        page.screenshot(path=str(SHOTS / "finetune_live.png"), full_page=True)
        step = int(re.search(r"step (\d+) / 7", page.inner_text("body")).group(1))
        # the rest of the app stays usable while it trains: two other pages in the same tab, then back
        for title, heading in (("Models", "Load and measure"), ("Benchmark", "Benchmark"), ("Fine-tuning", "Fine-tuning")):
            page.get_by_role("link", name=title).first.click()
            wait_idle(page, heading)
        # further along than when the user left, or already done
        page.wait_for_function(f"(() => {{ const m = /step (\\d+) \\/ 7/.exec(document.body.innerText);"
                               f" return (m && Number(m[1]) > {step}) || document.body.innerText.includes('Saved'); }})()",
                               timeout=SLOW)
        # with every setting as it was
        page.get_by_text("BBC News: 200 triplets").wait_for(timeout=SLOW)
        length_box = page.locator("[data-testid='stSelectbox']", has_text="Max tokens per text").first
        assert length_box.locator("input").first.input_value() == "64"
        page.get_by_text(f"Saved {name}").wait_for(timeout=SLOW)
        wait_idle(page, "Fine-tuning")
        body = page.locator("[data-testid='stMain']").inner_text()
        assert "triplet accuracy" in body and "nDCG@10" in body
        # loss, bars, histograms, two maps (the maps are projected after the text is drawn)
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 5", timeout=SLOW)
        page.screenshot(path=str(SHOTS / "finetune_results.png"), full_page=True)
        page.close()
    finally:
        app.stop()
    app = App()  # a restart: the model is read back from the data folder
    try:
        page = browser.new_page(viewport={"width": 1500, "height": 2600})
        page.goto(f"{app.url}/similarity")
        computed(page)
        picker = page.locator("[data-testid='stMultiSelect'] input").first
        picker.click()
        picker.fill(name)
        page.get_by_role("option", name=name, exact=True).click()  # listed among the models
        page.keyboard.press("Escape")
        # usable: its heatmap panel is drawn beside the others (after Compute: its vectors are new)
        computed(page, page.locator(".js-plotly-plot text", has_text=name))
        page.screenshot(path=str(SHOTS / "finetune_after_restart.png"))
        page.close()
    finally:
        app.stop()
        sh.rmtree(finetuned_dir() / name, ignore_errors=True)


def test_benchmark_leaderboard(app_url, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 2000})
    page.goto(f"{app_url}/benchmark")
    wait_idle(page, "Benchmark")
    # Only the fast static model, so a fresh machine does not embed 2,225 articles with MiniLM here.
    page.locator("[data-testid='stMultiSelect'] [aria-label*='Remove minilm'], "
                 "[data-testid='stMultiSelect'] [title='Remove minilm']").first.click()
    wait_idle(page, "Benchmark")
    page.get_by_role("button", name="Run benchmark").click()
    page.get_by_role("heading", name="3 · Leaderboard").wait_for(timeout=SLOW)
    wait_idle(page, "Benchmark")
    body = page.locator("[data-testid='stMain']").inner_text()
    assert "results" in body and "from the cache" in body
    # The tabs are drawn after the table and the scatter, sometimes on the next poll of the run's view.
    page.get_by_role("tab", name="bbc-retrieval").first.wait_for(timeout=SLOW)
    assert page.get_by_role("tab", name="bbc-retrieval").count() == 1
    page.locator(".js-plotly-plot").first.wait_for(timeout=SLOW)  # the first task's bar chart
    page.screenshot(path=str(SHOTS / "benchmark.png"), full_page=True)
    page.close()


def _point_position(page, chart_index: int = 0) -> tuple[float, float]:
    """Page coordinates of the first drawn point of a plotly map (WebGL points are not in the DOM).
    A rerun may replace the chart's element while this reads it (seen once in a full-suite run): then
    the new element is read."""
    from playwright.sync_api import Error

    for attempt in range(3):
        chart = page.locator(".js-plotly-plot").nth(chart_index)
        try:
            chart.scroll_into_view_if_needed()
            box = chart.bounding_box()
            x, y = chart.evaluate("""gd => {
                const l = gd._fullLayout, t = gd._fullData[0];
                return [l._size.l + l.xaxis.d2p(t.x[0]), l._size.t + l.yaxis.d2p(t.y[0])];
            }""")
            return box["x"] + x, box["y"] + y
        except Error as exc:
            if "not attached" not in str(exc) or attempt == 2:
                raise
            page.wait_for_timeout(1_000)
    raise AssertionError("unreachable")


def test_explorer_map_labels_and_a_clicked_points_neighbours(app_url, browser, tmp_path):
    """Two models on a small upload: the map carries each cluster's keywords; clicking a point lists its
    nearest neighbours in both models side by side."""
    from tests.fakes import topic_corpus

    good = tmp_path / "topics.csv"
    topic_corpus().to_csv(good, index=False)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    explorer_uploader(page, app_url).set_input_files(str(good))
    page.get_by_text("60 documents", exact=True).wait_for(timeout=SLOW)
    page.get_by_role("button", name="Run").click()
    page.get_by_role("tab", name="Compare").wait_for(timeout=SLOW)
    wait_idle(page, "Corpus explorer")
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for(timeout=SLOW)
    labels = chart.locator(".annotation-text").all_text_contents()  # SVG text: no inner text
    assert len(labels) >= 3 and all(label.split(" ", 1)[0].isdigit() for label in labels), labels
    chart.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "explorer_map.png"))

    x, y = _point_position(page)
    page.mouse.click(x, y)
    page.get_by_text("Nearest 10 neighbours of document").wait_for(timeout=SLOW)
    wait_idle(page, "Corpus explorer")
    assert page.get_by_text("1 point selected").count() == 1
    body = page.locator("[data-testid='stMain']").inner_text()
    assert "of 10 shared by both models" in body
    page.get_by_text("Nearest 10 neighbours of document").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "explorer_neighbours.png"))

    # A click on the second cluster row (the grid is a canvas: header and rows 35 px high) lists that cluster.
    grid = page.locator("[data-testid='stDataFrame']").filter(has_text="most central document").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 35 + 17)
    page.get_by_text("Documents of cluster").wait_for(timeout=SLOW)
    wait_idle(page, "Corpus explorer")
    page.close()
