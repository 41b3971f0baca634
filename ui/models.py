"""Loading models once per server process and encoding with a visible progress bar."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import streamlit as st

from embedlab import available_models, load_model, resolve_spec
from embedlab.errors import EmbedlabError


@st.cache_resource(show_spinner=False, max_entries=12)
def _cached_model(name: str, spec_json: str):
    # spec_json is part of the key so a re-registered custom or fine-tuned model reloads.
    return load_model(name)


def get_model(name: str):
    """Load (or reuse) a model, with a spinner the first time. Raises EmbedlabError."""
    spec = resolve_spec(name)
    with st.spinner(f"Loading {name}… (first use of smollm2 or mpnet prepares files once)"):
        return _cached_model(name, spec.to_json())


def model_choices() -> list[str]:
    return list(available_models())


def encode(model, texts: Sequence[str], *, role: str = "document", label: str | None = None,
           normalize: bool = True) -> np.ndarray:
    """Encode with a progress bar that disappears when done."""
    label = label or f"Embedding {len(texts)} texts with {model.name}"
    bar = st.progress(0.0, text=label)

    def report(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{label}: {done}/{total}")

    try:
        return model.encode(list(texts), role=role, progress=report, normalize=normalize)
    finally:
        bar.empty()


def load_many(names: Sequence[str]) -> tuple[dict[str, object], dict[str, str]]:
    """Load several models; return the ones that loaded and an error message per failure."""
    loaded, errors = {}, {}
    for name in names:
        try:
            loaded[name] = get_model(name)
        except EmbedlabError as exc:
            errors[name] = str(exc)
    return loaded, errors
