"""The Retrieval lab on a collection in the real app and headless Chromium: the app's data folder holds
a real collection of BBC titles (MiniLM, ANN and full-text index); a typed query is searched through it."""

import pytest

from tests.bbc_collection import build, titles
from tests.e2e.conftest import SHOTS, SLOW, App
from tests.e2e.test_browser import wait_idle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def collection_app(tmp_path_factory):
    """The app serving a data folder with the collection ``bbc`` in it."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EMBEDLAB_HOME", str(home))  # App() hands the environment to the server
        build(home, titles(1_200), ["minilm"])
        app = App()
        try:
            yield app.url
        finally:
            app.stop()


def test_retrieval_lab_searches_a_collection_through_its_index(collection_app, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1500, "height": 1500})
    page.goto(f"{collection_app}/retrieval")
    wait_idle(page, "Retrieval lab")
    page.get_by_text("A collection (LanceDB, built with embedlab index)").click()
    page.get_by_text("1,200 documents").first.wait_for(timeout=SLOW)
    wait_idle(page, "Retrieval lab")
    box = page.get_by_label("Query", exact=True)
    box.fill("Russian oil firm Yukos in tax battle")
    box.press("Enter")
    page.get_by_text("ms in the collection (10 results)").first.wait_for(timeout=SLOW)
    wait_idle(page, "Retrieval lab")
    # The results grid is drawn on a canvas; its cells are also in the page for screen readers.
    cells = page.locator("[data-testid='stDataFrame'] [role='gridcell']")
    cells.filter(has_text="business/").first.wait_for(state="attached", timeout=SLOW)  # Yukos: business news
    page.screenshot(path=str(SHOTS / "retrieval_collection.png"), full_page=True)
    body = page.locator("[data-testid='stMain']").inner_text()
    assert "minilm · ANN" in body and "1,200 documents" in body
    assert page.locator("[data-testid='stDataFrame']").count() == 1
    print(cells.all_inner_texts()[:12])
    page.close()
