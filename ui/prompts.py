"""The "Prompts" control the Similarity, Retrieval lab and Benchmark pages share: run each chosen model
with its own prompts, with none, and/or with typed ones, as variants side by side (models/prompts.py)."""

from __future__ import annotations

from typing import Sequence

import streamlit as st

from embedlab.errors import OptionError
from embedlab.models.prompts import PromptChoice, expand
from ui.state import PromptKeys

HELP = ("Instruction-tuned and E5-style models expect a prompt before each text (`query: `, `passage: `, "
        "`Represent this sentence for searching relevant passages: `); the prompt changes the vectors. Each "
        "ticked variant runs next to the others under its own name: `NAME` (its own prompts), `NAME~none`, "
        "`NAME~q=\"…\";d=\"…\"` (typed). The embedding cache keys on the prompt, so variants never share vectors "
        "unless their prompts are the same, and a variant seen before is not embedded again. You can also type "
        "a variant's name into the model list.")


def choice(keys: PromptKeys, *, roles: Sequence[str]) -> PromptChoice:
    """Draw the control (collapsed in an expander that names what is ticked) and return the choice."""
    session = st.session_state
    ticked = [mode for mode, key in (("own", keys.own), ("none", keys.none), ("typed", keys.typed)) if session[key]]
    with st.expander(f"Prompts: {', '.join(ticked) or 'nothing ticked'}", expanded=ticked != ["own"]):
        c1, c2, c3 = st.columns(3)
        own = c1.checkbox("Own prompts", key=keys.own, help="The model as it is, with the prompts it was trained "
                                                             "with (none for the bundled models).")
        none = c2.checkbox("No prompt", key=keys.none, help="The model with no prompt at all.")
        typed = c3.checkbox("Typed prompts", key=keys.typed, help="The model with the prompts typed below (they "
                                                                   "apply only while this is ticked).")
        query = document = ""
        if "query" in roles:
            query = st.text_input("Query prompt (typed)", key=keys.query,
                                  placeholder="e.g. Represent this news headline for retrieving its article: ")
        else:
            st.caption("Every text is embedded as a document here: only the document prompt applies.")
        document = st.text_input("Document prompt (typed)", key=keys.document,
                                 placeholder="e.g. passage: ")
        st.caption(HELP)
    try:
        return PromptChoice(own=own, none=none, typed=typed, query_prompt=query, document_prompt=document)
    except OptionError as exc:
        st.warning(f"{exc} Running the models with their own prompts.")
        return PromptChoice()


def variants(names: Sequence[str], keys: PromptKeys, *, roles: Sequence[str] = ("query", "document")) -> list[str]:
    """The control, then ``names`` with each plain model replaced by its ticked prompt variants; what would
    give the same vectors runs once, and a caption says so."""
    picked = choice(keys, roles=roles)
    found = expand(names, picked, roles=roles)
    for note in found.notes:
        st.caption("Prompts: " + note.replace("~", "\\~"))  # a '~' pair would strike the text through
    return list(found.names)
