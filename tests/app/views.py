"""Opening a page in Streamlit's AppTest the way a user does: through app.py's router."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

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
