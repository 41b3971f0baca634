"""Opening a view in Streamlit's AppTest with some session state set first."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def open_view(name: str, **state) -> AppTest:
    """Run views/<name>.py once with ``state`` in the session; fails on an exception."""
    at = AppTest.from_file(str(ROOT / "views" / f"{name}.py"), default_timeout=600)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at
