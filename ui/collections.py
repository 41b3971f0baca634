"""Opening a collection on a page: pick one from the data folder or type a folder / URI."""

from __future__ import annotations

import streamlit as st

from embedlab.errors import EmbedlabError
from embedlab.store.collection import Collection, known_collections

TYPED = "(type a folder or URI)"


@st.cache_resource(show_spinner=False, max_entries=8)
def _open(uri: str) -> Collection:
    return Collection.open(uri)


def pick_collection(key: str) -> Collection | None:
    """A collection the user chose (``key`` names the widgets), or None with the reason shown.
    Build collections with ``embedlab index`` (see the README)."""
    names = known_collections()
    options = [*names, TYPED]
    choice = st.selectbox("Collection", options, key=f"{key}_pick",
                          help="Collections in the data folder (built with `embedlab index --collection NAME`), "
                               "or any LanceDB folder or URI.")
    uri = st.text_input("Folder or URI", key=f"{key}_uri", placeholder="/data/support or s3://bucket/support") \
        if choice == TYPED else choice
    if not uri:
        if not names:
            st.info("No collection in the data folder yet. Build one with "
                    "`embedlab index --collection NAME --input FILE --model minilm`.")
        return None
    try:
        collection = _open(uri)
        collection.count()  # a collection opened earlier may have been deleted since
    except EmbedlabError as exc:
        st.error(str(exc))
        return None
    except (OSError, ValueError, RuntimeError) as exc:  # LanceDB's own errors for an unreadable folder
        st.error(f"Could not open {uri} as a collection: {str(exc).splitlines()[0][:200]}")
        return None
    return collection


def describe(collection: Collection, summary: dict | None = None) -> str:
    """One line on what ``collection`` holds (``summary``: its ``summary()``, when read already)."""
    s = summary or collection.summary()
    models = ", ".join(f"{n} ({m['embedded']:,} vectors{', ANN index' if m['ann_index'] else ''})"
                       for n, m in s["models"].items()) or "no vectors yet"
    return f"**{s['documents']:,} documents** · models: {models}"
