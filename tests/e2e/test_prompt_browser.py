"""The Prompts control in a real browser: typed prompts add variants beside the Similarity page's models."""

import pytest

from tests.e2e.conftest import SHOTS
from tests.e2e.test_browser import computed, wait_idle

pytestmark = pytest.mark.slow

PROMPT = "Represent this sentence: "


def test_similarity_typed_prompt_variants_side_by_side(app_url, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1500, "height": 3200})
    page.goto(f"{app_url}/similarity")
    computed(page)
    page.get_by_text("Prompts: own").click()
    page.get_by_text("Typed prompts", exact=True).click()
    wait_idle(page, "Similarity")
    box = page.get_by_label("Document prompt (typed)")
    box.fill(PROMPT)
    box.press("Enter")
    variant = f'smollm2~d="{PROMPT}"'
    computed(page, page.get_by_text(variant).first)
    body = page.locator("[data-testid='stMain']").inner_text()
    for name in ["minilm", "minilm@cls", "smollm2", f'minilm~d="{PROMPT}"', f'minilm@cls~d="{PROMPT}"', variant]:
        assert name in body
    assert "only the document prompt applies" in body
    page.screenshot(path=str(SHOTS / "similarity_prompts.png"), full_page=True)
    page.close()
