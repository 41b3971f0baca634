"""The app's frame: page config, session state, navigation and the shared sidebar.

``app.py`` calls ``run()``. Every page script starts with ``require_router()``: Streamlit 1.67
treats a folder named ``pages/`` beside the main script as its legacy multipage layout, and until
``st.navigation`` has run once in the server process, a cold deep link such as ``/similarity``
executes ``pages/similarity.py`` on its own, without this frame (no navigation, no state, no page
config). The guard notices that the router is not running this page and runs it, so the same page
opens inside the app; the legacy pass ends there.
"""

from __future__ import annotations

import ipaddress
import logging
import threading

import streamlit as st

from embedlab.explorer.pipeline import warm_up
from ui import sidebar, state

_ROUTED = threading.local()  # set while run() executes a page, in that script thread only

PAGES = [  # (file, title, icon); the URL path is the file's stem, Home is the default page
    ("pages/home.py", "Home", ":material/home:"),
    ("pages/models.py", "Models", ":material/deployed_code:"),
    ("pages/similarity.py", "Similarity", ":material/grid_on:"),
    ("pages/explorer.py", "Corpus explorer", ":material/bubble_chart:"),
    ("pages/retrieval.py", "Retrieval lab", ":material/manage_search:"),
    ("pages/finetune.py", "Fine-tuning", ":material/model_training:"),
    ("pages/benchmark.py", "Benchmark", ":material/leaderboard:"),
]


def run() -> None:
    st.set_page_config(page_title="embedlab", page_icon=":material/scatter_plot:", layout="wide")
    start_warm_up()
    state.init()
    navigation = st.navigation([st.Page(path, title=title, icon=icon, default=(n == 0))
                                for n, (path, title, icon) in enumerate(PAGES)])
    sidebar.render()
    exposure_warning()
    _ROUTED.active = True
    try:
        navigation.run()
    finally:
        _ROUTED.active = False


_WARM_UP_LOCK = threading.Lock()
_warm_up_thread: threading.Thread | None = None


def start_warm_up() -> None:
    """Once per server process, compile the explorer's numba kernels in a background thread, so the
    first map a user asks for does not wait ~10-20 s for them."""
    global _warm_up_thread
    with _WARM_UP_LOCK:
        if _warm_up_thread is None:
            _warm_up_thread = threading.Thread(target=_warm_up, name="embedlab-numba-warm-up", daemon=True)
            _warm_up_thread.start()


def _warm_up() -> None:
    try:
        warm_up()
    except Exception:  # the first real map then compiles instead; say why in the server log
        logging.getLogger(__name__).exception("Warming up the explorer's UMAP failed")


def require_router() -> None:
    """First line of every page script: outside ``run()``, run the app instead and stop here."""
    if getattr(_ROUTED, "active", False):
        return
    run()
    st.stop()


def listens_beyond_this_machine(address: str | None) -> bool:
    """True unless ``address`` is a loopback one (Streamlit listens on every interface when unset)."""
    if not address:
        return True
    if address == "localhost":
        return False
    try:
        return not ipaddress.ip_address(address).is_loopback
    except ValueError:  # a host name other than localhost
        return True


def exposure_warning() -> None:
    address = st.get_option("server.address")
    if listens_beyond_this_machine(address):
        st.warning(f"This app listens on **{address or 'every network interface'}**: other machines can reach it, "
                   "with no login, and the Models page can load any folder on this server. Serve it on a "
                   "network only on purpose (see the README, 'Serving on a network').", icon=":material/public:")
