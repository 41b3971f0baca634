"""Models: the catalog, load-and-measure, and adding your own model."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from embedlab import available_models, load_model
from embedlab.durations import format_seconds
from embedlab.errors import EmbedlabError
from embedlab.jobs import Job, JobContext
from embedlab.models.distilled import (
    DEFAULT_DIMS,
    MIN_DIMS,
    DistillReport,
    compare_with_parent,
    distill_model,
    is_distilled,
)
from embedlab.models.gate import DEGRADED_DROP, GATE_TITLES, Gate, built_variants
from embedlab.models.registry import (
    CUSTOM_KINDS,
    custom_spec,
    finetuned_specs,
    load_custom_specs,
    registry_problems,
    remove_custom_spec,
    save_custom_spec,
)
from embedlab.models.spec import ModelSpec
from embedlab.models.throughput import Throughput, measure_throughput, sample_texts
from embedlab.pooling import POOLING_MODES
from ui import glossary, jobs, jobview, shell, state
from ui.models import get_model

shell.require_router()

FROM_CONFIG = "as the model's config says"
AUTO = "detect from config"
SAMPLE_SIZES = [16, 32, 64, 128, 256]
MEASURE, DISTIL, COMPARE = "models-measure", "models-distill", "models-compare"  # job kinds
MEASURE_ADOPTED, DISTIL_ADOPTED, COMPARE_ADOPTED = "models_measure_adopted", "models_distill_adopted", \
    "models_compare_adopted"
NOT_KNOWN = "—"  # a cell with nothing to show: not measured yet, or not a backend variant
CATALOG_FORMATS = {"dim": "{:.0f}", "parameters (M)": "{:.1f}", "max length": "{:.0f}", "load s": "{:.2f}",
                   "short texts/s": "{:,.1f}", "long texts/s": "{:,.1f}", "Spearman Δ": "{:+.4f}"}


def catalog_section(specs: dict[str, ModelSpec], custom: dict[str, ModelSpec]) -> None:
    """1. Every model that can be picked by name, with what was measured of it in this session."""
    for problem in registry_problems():  # the catalog below lacks these models; say why
        st.warning(problem)
    finetuned = finetuned_specs()
    measured: dict[str, Throughput] = st.session_state[state.MODELS_MEASURED]
    rows = [_model_row(spec, measured.get(spec.name),
                       "custom" if spec.name in custom else "fine-tuned" if spec.name in finetuned else spec.source)
            for spec in specs.values()]
    rows += [_variant_row(spec, gate, measured.get(spec.name)) for spec, gate in built_variants()]
    st.dataframe(catalog_table(rows), key="models_catalog",
                 column_config={**glossary.column_help({"Lee Spearman (variant / parent)": "Spearman"}),
                                "pooling": st.column_config.Column("pooling", help=glossary.pooling_help())})
    st.caption(f"{NOT_KNOWN} = not measured yet in this session (use Load and measure below), or a column that only "
               "backend variants have.")
    st.caption(f"`+onnx` / `+int8` after any encoder or decoder name runs it with ONNX Runtime (fp32 / int8 weights). "
               "A variant is built and quality-gated against its fp32 parent on first use (the Lee STS pairs and "
               f"{GATE_TITLES} BBC titles); one losing more than {DEGRADED_DROP} Spearman is marked degraded.")


def catalog_table(rows: list[dict]):
    """The catalog as a styled table: numbers rounded, and every empty cell shown as a dash."""
    frame = pd.DataFrame(rows).set_index("name")
    styled = frame.style.format(na_rep=NOT_KNOWN)
    for column, pattern in CATALOG_FORMATS.items():
        if column in frame.columns:
            styled = styled.format(pattern, subset=[column], na_rep=NOT_KNOWN)
    return styled


def _model_row(spec: ModelSpec, m: Throughput | None, source: str) -> dict:
    """One catalog row: what the spec says, and what was measured of it in this session."""
    return {
        "name": spec.name, "kind": spec.kind, "dim": (m.dim if m else spec.dim) or None,
        "parameters (M)": round(m.parameters / 1e6, 1) if m else None,
        "max length": spec.max_seq_length, "pooling": spec.pooling,
        "prompts (query / document)": (f"{spec.query_prompt!r} / {spec.document_prompt!r}"
                                       if spec.query_prompt or spec.document_prompt else "—"),
        "source": source,
        "load s": round(m.load_seconds, 2) if m else None,
        "short texts/s": round(m.short_per_s, 1) if m else None,
        "long texts/s": round(m.long_per_s, 1) if m else None,
        "description": spec.description,
    }


def _variant_row(spec: ModelSpec, gate: Gate, m: Throughput | None) -> dict:
    """A built backend variant: its catalog row plus its quality gate against the fp32 parent."""
    return {
        **_model_row(spec, m, f"{gate.backend} of {gate.parent}"),
        "gate": "degraded" if gate.degraded else "ok", "cosine to parent (mean / min)":
            f"{gate.mean_cosine:.4f} / {gate.min_cosine:.4f}",
        "Lee Spearman (variant / parent)": f"{gate.variant_spearman:.4f} / {gate.parent_spearman:.4f}",
        "Spearman Δ": round(gate.spearman_difference, 4),
        "description": f"{spec.description} Run by ONNX Runtime ({gate.backend}, built for {gate.isa}).",
    }


def measure_section(specs: dict[str, ModelSpec]) -> None:
    """2. Load one model and time it on BBC titles (short) and article bodies (long)."""
    st.subheader("Load and measure")
    c1, c2 = st.columns([2, 1])
    name = c1.selectbox("Model", list(specs), key="models_measure_name")
    n_sample = c2.select_slider("Sample size", options=SAMPLE_SIZES, value=state.first_value("models_measure_n", 32),
                                key="models_measure_n")
    if st.button("Load and measure", type="primary", key="models_measure_go",
                 disabled=_running(MEASURE), help="Runs in the background: you can switch pages and come back."):
        try:
            model = get_model(name)
        except EmbedlabError as exc:
            st.error(f"Could not load {name}: {exc}")
            st.stop()
        texts = sample_texts(n_sample)

        def task(ctx: JobContext) -> tuple[str, Throughput]:
            report = ctx.phases()
            return name, measure_throughput(model, *texts, progress=lambda kind, d, t: report(
                f"Measuring on {kind} texts", d, t))

        _submit(Job(MEASURE, f"Measuring {name}", task))
    measured = jobview.fresh_result(jobview.panel(MEASURE), MEASURE_ADOPTED)
    if measured is not None:
        measured_name, result = measured
        st.session_state[state.MODELS_MEASURED][measured_name] = result
        # Shown after the rerun below, which redraws the catalog with the new numbers.
        st.session_state[state.MODELS_FLASH] = (
            f"**{measured_name}**: {result.dim}-d, {result.parameters / 1e6:.1f} M parameters, loaded in "
            f"{format_seconds(result.load_seconds)} (first load of a process). {result.short_per_s:.1f} short texts/s, "
            f"{result.long_per_s:.1f} long texts/s on this machine; {result.truncated_share:.0%} of the sampled "
            f"articles exceed {result.max_seq_length} tokens and are truncated."
        )
        st.rerun()
    if st.session_state.get(state.MODELS_FLASH):
        st.success(st.session_state.pop(state.MODELS_FLASH))


def add_section() -> None:
    """3. Add a local folder or hub model under a short name, after a test load."""
    st.subheader("Add a model")
    with st.form("models_add"):
        a1, a2 = st.columns(2)
        new_name = a1.text_input("Name to use on every page", key="models_add_name")
        where = a2.text_input("Local folder or hub ID (org/model)", key="models_add_where")
        b1, b2, b3 = st.columns(3)
        kind = b1.selectbox("Kind", [AUTO, *CUSTOM_KINDS], key="models_add_kind")
        pooling = b2.selectbox("Pooling", [FROM_CONFIG, *POOLING_MODES], key="models_add_pooling",
                               help=glossary.pooling_help())
        max_len = b3.number_input("Max tokens", min_value=8, max_value=8192,
                                   value=state.first_value("models_add_maxlen", 256),
                                   step=8, key="models_add_maxlen")
        eos = st.selectbox("Append EOS token (decoders: gives last-token pooling a summary position)",
                           [FROM_CONFIG, "yes", "no"], key="models_add_eos")
        p1, p2 = st.columns(2)
        query_prompt = p1.text_input("Query prompt (e.g. 'query: ')", key="models_add_qp")
        document_prompt = p2.text_input("Document prompt (e.g. 'passage: ')", key="models_add_dp")
        submitted = st.form_submit_button("Add and test-load")
    if not submitted:
        return
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
    # ValueError: a user's model can fail its first encode in transformers' own ways.
    except (EmbedlabError, OSError, ValueError) as exc:
        st.error(f"Could not add the model: {exc}")


def remove_section(custom: dict[str, ModelSpec]) -> None:
    if not custom:
        return
    r1, r2 = st.columns([3, 1])
    to_remove = r1.selectbox("Remove a model you added", list(custom), key="models_remove_name")
    if r2.button("Remove", key="models_remove_go"):
        try:
            remove_custom_spec(to_remove)
        except EmbedlabError as exc:
            st.error(str(exc))
            return
        st.rerun()


def distill_section(specs: dict[str, ModelSpec]) -> None:
    """5. Distil an encoder into a static model (model2vec), then time and score it next to its parent."""
    st.subheader("Distil a static model")
    st.caption("model2vec runs the encoder once over every token of its vocabulary (no data, no network) and "
               "keeps the vectors: a text's vector is then the mean of its tokens', thousands of texts per "
               "second. It is saved with the fine-tuned models and works by name everywhere.")
    encoders = [name for name, spec in specs.items() if spec.kind == "encoder"]
    with st.form("models_distill"):
        c1, c2, c3 = st.columns([2, 2, 1])
        parent = c1.selectbox("Encoder to distil", encoders, key="models_distill_parent")
        new_name = c2.text_input("Name for the static model", key="models_distill_name")
        dims = c3.number_input("Dimensions", min_value=MIN_DIMS, max_value=4096, step=8,
                               value=state.first_value("models_distill_dims", DEFAULT_DIMS),
                               key="models_distill_dims")
        go = st.form_submit_button("Distil")
    if go:
        _submit(Job(DISTIL, f"Distilling {parent}", lambda ctx: distill_model(
            parent, new_name, dims=int(dims), progress=ctx.phases()),
            settings={"widgets": state.snapshot(["models_distill_parent", "models_distill_name",
                                                 "models_distill_dims"])}))
    made = jobview.fresh_result(jobview.panel(DISTIL), DISTIL_ADOPTED)
    if made is not None:
        st.session_state[state.MODELS_DISTILL_FLASH] = (
            f"Distilled **{made.parent}** into **{made.name}**: {made.dim}-d vectors for "
            f"{made.vocabulary:,} tokens in {format_seconds(made.seconds)}. Compare it with its parent below.")
        st.rerun()
    if st.session_state.get(state.MODELS_DISTILL_FLASH):
        st.success(st.session_state.pop(state.MODELS_DISTILL_FLASH))
    distilled = [name for name, spec in specs.items() if is_distilled(spec)]
    if not distilled:
        return
    d1, d2 = st.columns([2, 1])
    name = d1.selectbox("Distilled model", distilled, key="models_distill_compare_name")
    n_sample = d2.select_slider("Articles to time on", options=[50, 100, 200, 500],
                                value=state.first_value("models_distill_compare_n", 200),
                                key="models_distill_compare_n")
    reports = st.session_state[state.MODELS_DISTILL_REPORTS]
    if st.button("Compare with its parent", key="models_distill_compare_go", disabled=_running(COMPARE),
                 help="Times both on the same BBC titles and articles, then scores both on the bundled tasks "
                      "(results are cached: a second comparison is quick). Runs in the background."):
        _submit(Job(COMPARE, f"Comparing {name} with its parent",
                    lambda ctx: (name, compare_with_parent(name, sample=n_sample, progress=ctx.phases()))))
    compared = jobview.fresh_result(jobview.panel(COMPARE), COMPARE_ADOPTED)
    if compared is not None:
        reports[compared[0]] = compared[1]
        st.session_state[state.MODELS_MEASURED].update(compared[1].speed)
        st.rerun()  # redraws the catalog above with both models' speeds; the report is kept in state
    if name in reports:
        _show_distill_report(reports[name])


def _running(kind: str) -> bool:
    job = jobs.latest(kind)
    return job is not None and job.running


def _submit(job: Job) -> None:
    try:
        jobs.submit(job)
    except RuntimeError as exc:
        st.error(str(exc))


def _show_distill_report(report: DistillReport) -> None:
    speed = pd.DataFrame([{"model": model, "titles/s": round(t.short_per_s, 1), "articles/s": round(t.long_per_s, 1),
                           "dim": t.dim, "parameters (M)": round(t.parameters / 1e6, 1)}
                          for model, t in report.speed.items()]).set_index("model")
    st.markdown(f"**Speed** on this machine, same run: {report.speed_ratio('short'):.1f}x {report.parent}'s "
                f"rate on titles, {report.speed_ratio('long'):.1f}x on article bodies.")
    st.dataframe(speed, key="models_distill_speed")
    st.markdown("**Quality** on the bundled tasks (main score of each; higher is better):")
    st.dataframe(report.scores.style.format("{:.4f}", na_rep="–"), key="models_distill_scores")
    if report.spearman_delta is not None:
        st.markdown(f"Lee STS Spearman, distilled − parent: **{report.spearman_delta:+.4f}**. The cosine-to-parent "
                    "checks of the quality gate do not apply: the two models' vectors differ in size.")
    for model, problems in report.errors.items():
        for where, message in problems.items():
            st.error(f"{model}: {where}: {message}")


st.title("Models")
st.caption("Every model here loads from installed packages or local folders; pick any of them by name "
           "on every page and in the CLI. Append `@POOLING` to a name for a pooling variant.")
all_specs, custom_specs = available_models(), load_custom_specs()
catalog_section(all_specs, custom_specs)
measure_section(all_specs)
add_section()
remove_section(custom_specs)
distill_section(all_specs)
