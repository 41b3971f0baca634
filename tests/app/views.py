"""Opening a page in Streamlit's AppTest the way a user does: through app.py's router."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui import jobs

ROOT = Path(__file__).resolve().parents[2]


def open_view(name: str, **state) -> AppTest:
    """Run app.py, switch to pages/<name>.py with ``state`` in the session; fails on an exception."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    if name != "home":
        at.switch_page(f"pages/{name}.py").run()
        assert not at.exception, at.exception
    return at


def run_job(at: AppTest, button_key: str) -> AppTest:
    """Press a button that starts a background job, wait for the job, and draw the page again, as a
    user who waits and looks back does (AppTest does not run the page's one-second refresh)."""
    at.button(key=button_key).click().run()
    assert not at.exception, at.exception
    jobs.wait_all(600)
    return at.run()


def run_if_asked(at: AppTest, button_key: str) -> AppTest:
    """Press ``button_key`` and wait for its job when the page asks for it (the work is not cached
    yet); a page that could show everything at once is returned as it is."""
    if any(button.key == button_key for button in at.button):
        run_job(at, button_key)
    return at
