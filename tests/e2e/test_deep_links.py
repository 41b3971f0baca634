"""Every page opened by deep link as the very first request of a freshly started server.

Streamlit 1.67 treats ``pages/`` as its legacy multipage folder until ``st.navigation`` has run
once in the process; without ``shell.require_router()`` a cold ``/similarity`` ran the page script
alone, with no navigation and no session state. Each case starts its own server so that nothing
has run before the deep link.
"""

import pytest

from tests.e2e.conftest import SHOTS, App
from ui.shell import PAGES

pytestmark = pytest.mark.slow

NAV_TITLES = [title for _, title, _ in PAGES]
# What each page shows first, before any model work: its title (Home's is the product name).
HEADINGS = {"home": "embedlab", "models": "Models", "similarity": "Similarity", "explorer": "Corpus explorer",
            "retrieval": "Retrieval lab", "finetune": "Fine-tuning", "benchmark": "Benchmark"}


@pytest.mark.parametrize("stem", list(HEADINGS))
def test_cold_deep_link_opens_the_page_inside_the_app(browser, stem):
    app = App()
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{app.url}/{'' if stem == 'home' else stem}")
        page.get_by_role("heading", name=HEADINGS[stem]).first.wait_for(timeout=120_000)
        nav = page.locator("[data-testid='stSidebarNav']")
        nav.wait_for(timeout=30_000)
        links = nav.inner_text()
        for title in NAV_TITLES:
            assert title in links, f"{title!r} missing from the navigation on a cold /{stem}: {links!r}"
        # The legacy mode would also have said the page does not exist.
        assert page.get_by_text("Page not found").count() == 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"deep_link_{stem}.png"))
        page.close()
    finally:
        app.stop()
