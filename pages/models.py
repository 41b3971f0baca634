"""Models: the catalog, load-and-measure, and adding your own model."""

from __future__ import annotations

import dataclasses
import time

import pandas as pd
import streamlit as st

from embedlab import available_models, bundled, load_model
from embedlab.errors import EmbedlabError
from embedlab.models.registry import (
    custom_spec,
    finetuned_specs,
    load_custom_specs,
    remove_custom_spec,
    save_custom_spec,
)
from embedlab.pooling import POOLING_MODES
from ui import shell, state
from ui.models import get_model

shell.require_router()

FROM_CONFIG = "as the model's config says"
AUTO = "detect from config"

st.title("Models")
st.caption("Every model here loads from installed packages or local folders; pick any of them by name "
           "on every page and in the CLI. Append `@POOLING` to a name for a pooling variant.")

# 1. Catalog -------------------------------------------------------------------------------------
specs = available_models()
custom = load_custom_specs()
finetuned = finetuned_specs()
measured = st.session_state[state.MODELS_MEASURED]
rows = []
for spec in specs.values():
    m = measured.get(spec.name, {})
    rows.append({
        "name": spec.name, "kind": spec.kind, "dim": m.get("dim") or spec.dim or None,
        "parameters (M)": round(m["parameters"] / 1e6, 1) if "parameters" in m else None,
        "max length": spec.max_seq_length, "pooling": spec.pooling,
        "prompts (query / document)": (f"{spec.query_prompt!r} / {spec.document_prompt!r}"
                                       if spec.query_prompt or spec.document_prompt else "—"),
        "source": "custom" if spec.name in custom else "fine-tuned" if spec.name in finetuned else spec.source,
        "load s": m.get("load_seconds"), "short texts/s": m.get("short_per_s"), "long texts/s": m.get("long_per_s"),
        "description": spec.description,
    })
st.dataframe(pd.DataFrame(rows).set_index("name"), key="models_catalog")

# 2. Load and measure ----------------------------------------------------------------------------
st.subheader("Load and measure")
c1, c2 = st.columns([2, 1])
name = c1.selectbox("Model", list(specs), key="models_measure_name")
n_sample = c2.select_slider("Sample size", options=[16, 32, 64, 128, 256], value=32, key="models_measure_n")
if st.button("Load and measure", type="primary", key="models_measure_go"):
    try:
        model = get_model(name)
    except (EmbedlabError, ValueError) as exc:
        st.error(f"Could not load {name}: {exc}")
        st.stop()
    bbc = bundled.bbc_news().sample(n=n_sample, random_state=1)
    raw = getattr(model, "inner", model)  # time the model itself, not the cache
    result = {"dim": raw.dim, "parameters": raw.parameters, "load_seconds": round(raw.load_seconds, 2)}
    bar = st.progress(0.0, text="Measuring throughput on short texts (BBC titles)…")
    for i, (label, texts) in enumerate((("short", bbc["title"].tolist()), ("long", bbc["text"].tolist()))):
        start = time.perf_counter()
        raw.encode(texts, progress=lambda d, t, i=i: bar.progress(min((i + d / t) / 2, 1.0),
                                                                  text=f"Measuring on {label} texts: {d}/{t}"))
        result[f"{label}_per_s"] = round(len(texts) / (time.perf_counter() - start), 1)
    lengths = raw.token_lengths(bbc["text"].tolist())
    result["truncated_share"] = float((lengths > raw.max_seq_length).mean())
    bar.empty()
    measured[name] = result
    # Shown after the rerun below, which redraws the catalog with the new numbers.
    st.session_state[state.MODELS_FLASH] = (
        f"**{name}**: {raw.dim}-d, {raw.parameters / 1e6:.1f} M parameters, loaded in {raw.load_seconds:.2f} s "
        f"(first load of a process). {result['short_per_s']} short texts/s, {result['long_per_s']} long texts/s "
        f"on this machine; {result['truncated_share']:.0%} of the sampled articles exceed {raw.max_seq_length} tokens "
        "and are truncated."
    )
    st.rerun()
if st.session_state.get(state.MODELS_FLASH):
    st.success(st.session_state.pop(state.MODELS_FLASH))

# 3. Add your own --------------------------------------------------------------------------------
st.subheader("Add a model")
with st.form("models_add"):
    a1, a2 = st.columns(2)
    new_name = a1.text_input("Name to use on every page", key="models_add_name")
    where = a2.text_input("Local folder or hub ID (org/model)", key="models_add_where")
    b1, b2, b3 = st.columns(3)
    kind = b1.selectbox("Kind", [AUTO, "encoder", "decoder"], key="models_add_kind")
    pooling = b2.selectbox("Pooling", [FROM_CONFIG, *POOLING_MODES], key="models_add_pooling")
    max_len = b3.number_input("Max tokens", min_value=8, max_value=8192, value=256, step=8, key="models_add_maxlen")
    eos = st.selectbox("Append EOS token (decoders: gives last-token pooling a summary position)",
                       [FROM_CONFIG, "yes", "no"], key="models_add_eos")
    p1, p2 = st.columns(2)
    query_prompt = p1.text_input("Query prompt (e.g. 'query: ')", key="models_add_qp")
    document_prompt = p2.text_input("Document prompt (e.g. 'passage: ')", key="models_add_dp")
    submitted = st.form_submit_button("Add and test-load")
if submitted:
    try:
        spec = custom_spec(
            new_name, where, kind=None if kind == AUTO else kind,
            pooling=None if pooling == FROM_CONFIG else pooling, max_seq_length=int(max_len),
            query_prompt=query_prompt, document_prompt=document_prompt,
            append_eos=None if eos == FROM_CONFIG else eos == "yes",
        )
        with st.spinner(f"Test-loading {spec.name}…"):
            probe = load_model(spec, cache=False)
            probe.encode(["embedlab test sentence"])
        save_custom_spec(dataclasses.replace(spec, dim=probe.dim))
        st.success(f"Added **{spec.name}** ({spec.kind}, {probe.dim}-d, {spec.pooling} pooling). "
                   "It is now selectable on every page and in the CLI.")
    except (EmbedlabError, ValueError, OSError) as exc:
        st.error(f"Could not add the model: {exc}")

if custom:
    r1, r2 = st.columns([3, 1])
    to_remove = r1.selectbox("Remove a model you added", list(custom), key="models_remove_name")
    if r2.button("Remove", key="models_remove_go"):
        remove_custom_spec(to_remove)
        st.rerun()
