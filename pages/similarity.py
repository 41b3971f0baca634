"""Similarity: how do several models judge the same texts, and how healthy is each space?"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from embedlab import bundled, estimate, similarity
from embedlab.jobs import Job, JobContext
from ui import charts, glossary, jobs, jobview, prompts, shell, state
from ui.models import load_many, model_choices

shell.require_router()

MAX_TEXTS = 60
# 100 BBC titles, not 300: SmolLM2 embedding them was most of the first view's cold-cache time (median 127 s
# wall / 60 CPU-s for the default trio with 300, 38 s / 24 CPU-s with 100, on the shared 2-core machine; see
# benchmarks/similarity_first_view.py), and the geometry moves little: mean random-pair cosine within 0.006 of
# the 300-title value for every default model, top-PC share +0.007 to +0.014 (small samples inflate it).
GEOMETRY_SAMPLE = 100
EXAMPLE = "Example set: paraphrase / same topic / unrelated"
TYPED = "Type or paste texts"
REFERENCE = f"BBC News titles ({GEOMETRY_SAMPLE}, all topics)"
THESE = "The texts above"
VARIANTS = ["minilm@cls", "smollm2@mean", "smollm2@weighted-mean", "mpnet@cls"]
SIMILARITY = "similarity"  # the job kind
SIM_RESULT = "sim_result"  # {"key": (texts, sample, models), "texts": {model: vectors}, "sample": {...}}
SIM_ADOPTED = "sim_adopted_job"
SIM_AUTO = "sim_auto_started"  # the views this session started without a click
LIGHT_SECONDS, LIGHT_TEXTS = 20.0, 400
GEOMETRY_COLUMNS = {"mean_cosine": "mean cosine (random pairs)", "top_pc_share": "variance on top PC",
                    "norm_mean": "mean norm", "norm_cv": "norm spread (std/mean)", "n": "texts"}


def texts_section() -> tuple[list[str], np.ndarray | None]:
    """1. The texts, and for the example set the kind of every pair (paraphrase / same topic / unrelated)."""
    source = st.radio("Texts", [EXAMPLE, TYPED], key=state.SIM_SOURCE, horizontal=True)
    if source == EXAMPLE:
        examples = bundled.similarity_examples()
        texts = examples["text"].tolist()
        with st.expander(f"The {len(texts)} example texts (4 topics; each topic has a paraphrase pair)"):
            st.dataframe(examples[["topic", "text"]], hide_index=False)
        return texts, bundled.pair_kinds(examples["topic"].tolist(), examples["group"].tolist())
    raw = st.text_area("One text per line", key=state.SIM_TEXT, height=180,
                       placeholder="The cat sat on the mat.\nA cat was sitting on a rug.\nStocks fell on Monday.")
    texts = [line.strip() for line in raw.splitlines() if line.strip()]
    if len(texts) < 2:
        st.info("Enter at least two texts, one per line.")
        st.stop()
    if len(texts) > MAX_TEXTS:
        st.warning(f"{len(texts)} texts given; the heatmaps use the first {MAX_TEXTS}.")
        texts = texts[:MAX_TEXTS]
    return texts, None


def models_section() -> tuple[dict, bool, str]:
    """2. The models (those that fail to load are named, the rest go on), centering, geometry sample."""
    options = list(dict.fromkeys([*model_choices(), *VARIANTS, *st.session_state[state.SIM_MODELS]]))
    names = st.multiselect(
        "Models, 1 to 4 (type NAME@POOLING for a pooling variant, e.g. mpnet@max)",
        options, key=state.SIM_MODELS, max_selections=4, accept_new_options=True,
        help=glossary.pooling_help(before="A model's pooling turns its token vectors into one vector per text; "
                                          "the same model pooled two ways can judge similarity very differently."),
    )
    names = prompts.variants(names, state.SIM_PROMPTS, roles=("document",))
    left, right = st.columns(2)
    centered = left.toggle("Mean-center before cosine", key=state.SIM_CENTER,
                           help=glossary.helps("mean-centering", "anisotropy",
                                               before="Subtracts the mean vector of the geometry sample below."))
    geometry_source = right.radio("Geometry measured on", [REFERENCE, THESE], key=state.SIM_GEOMETRY_SOURCE,
                                  horizontal=True, help=glossary.helps("anisotropy", "top-PC variance",
                                  before="The texts the Geometry section measures each space on: a fixed random "
                                         "sample of BBC News titles, or the texts above."))
    if not names:
        st.info("Pick at least one model.")
        st.stop()
    models, errors = load_many(names)
    for name, message in errors.items():
        st.error(f"**{name}** could not be used: {message}")
    if not models:
        st.stop()
    return models, centered, geometry_source


def embed_section(models: dict, texts: list[str], geometry_source: str) -> tuple[dict, dict]:
    """3. Raw (unnormalised) vectors of the texts and of the geometry sample; norms feed the geometry panel.
    When every vector is in the disk cache they are read at once. Otherwise the embedding runs in the
    background: by itself when it is light (``is_light``, e.g. the default view on a cold cache), after
    the Compute button, its cost said first, when it is not."""
    sample = texts
    if geometry_source == REFERENCE:
        sample = bundled.bbc_news()["title"].sample(n=GEOMETRY_SAMPLE, random_state=0).tolist()
    key = (tuple(texts), tuple(sample), tuple(models))
    estimates = {name: estimate.estimate_encode(model, list(dict.fromkeys([*texts, *sample])))
                 for name, model in models.items()}
    if all(e.to_encode == 0 for e in estimates.values()):
        return embed_all(models, texts, sample)
    job = jobs.latest(SIMILARITY)
    adopted = jobview.fresh_result(job, SIM_ADOPTED)
    if adopted is not None:
        st.session_state[SIM_RESULT] = adopted
    kept = st.session_state.get(SIM_RESULT)
    if kept and kept["key"] == key:
        return kept["texts"], kept["sample"]
    running = job is not None and job.running
    seconds = sum(e.seconds or 0.0 for e in estimates.values())
    started_here = st.session_state.setdefault(SIM_AUTO, [])
    if not running and is_light(estimates.values()) and key not in started_here:
        started_here.append(key)  # once: a failed or stopped light run waits for the button after that
        start_embedding(models, texts, sample, key, seconds)
        running = True
    jobview.cost_lines([e.describe() for e in estimates.values()], SIMILARITY)
    if st.button("Compute", type="primary", key="sim_compute", disabled=running,
                 help="Embeds the texts and the geometry sample in the background; later views of the same "
                      "texts come from the cache at once."):
        start_embedding(models, texts, sample, key, seconds)
    jobview.panel(SIMILARITY)
    st.stop()


def is_light(estimates) -> bool:
    """Cheap enough to start without asking: at most ``LIGHT_SECONDS`` at the speeds measured here, and
    for a model never measured here, at most ``LIGHT_TEXTS`` texts to embed."""
    estimates = list(estimates)
    known = sum(e.seconds for e in estimates if e.seconds is not None)
    unmeasured = sum(e.to_encode for e in estimates if e.seconds is None)
    return known <= LIGHT_SECONDS and unmeasured <= LIGHT_TEXTS


def embed_all(models: dict, texts: list[str], sample: list[str], ctx: JobContext | None = None) -> tuple[dict, dict]:
    unique = list(dict.fromkeys([*texts, *sample]))  # the example texts may also be in the sample
    row = {t: i for i, t in enumerate(unique)}
    text_vectors, sample_vectors = {}, {}
    for n, (name, model) in enumerate(models.items()):
        if ctx is not None:
            ctx.section(n / len(models), (n + 1) / len(models), f"{name}: embedding")
        relay = ctx.progress if ctx is not None else None
        start = time.perf_counter()
        both = model.encode(unique, normalize=False, progress=relay)
        if ctx is not None:
            estimate.learn_from_run(model, unique, time.perf_counter() - start, source="similarity")
        text_vectors[name] = both[[row[t] for t in texts]]
        sample_vectors[name] = text_vectors[name] if sample is texts else both[[row[t] for t in sample]]
    return text_vectors, sample_vectors


def start_embedding(models: dict, texts: list[str], sample: list[str], key: tuple, seconds: float) -> None:
    def task(ctx: JobContext) -> dict:
        vectors, sample_vectors = embed_all(models, texts, sample, ctx)
        return {"key": key, "texts": vectors, "sample": sample_vectors}

    try:
        jobs.submit(Job(SIMILARITY, f"Similarity ({', '.join(models)})", task, estimate_seconds=seconds or None,
                        settings={"widgets": state.snapshot(state.SIMILARITY_KEYS)}))
    except RuntimeError as exc:
        st.error(str(exc))


def heatmaps_section(matrices: dict[str, np.ndarray], texts: list[str], kinds: np.ndarray | None) -> None:
    """4. One heatmap per model on one colour scale, and for the example set the mean cosine per pair kind."""
    st.subheader("Cosine similarity")
    st.plotly_chart(charts.heatmaps(matrices, texts), key="sim_heatmaps")
    if kinds is None:
        return
    rows = []
    for name, m in matrices.items():
        means = similarity.kind_means(m, kinds)
        rows.append({"model": name, **means, "paraphrase − unrelated": means["paraphrase"] - means["unrelated"],
                     "paraphrase is nearest": f"{similarity.paraphrase_hits(m, kinds)}/"
                                              f"{similarity.texts_with_paraphrase(kinds)}"})
    st.markdown("**Mean cosine by pair kind** — a useful model separates the columns; a poor one scores everything alike.")
    st.dataframe(pd.DataFrame(rows).set_index("model").style.format(precision=3), key="sim_kinds")


def agreement_section(matrices: dict[str, np.ndarray], texts: list[str]) -> None:
    """5. How far the models agree on which pairs are similar, and where two of them differ."""
    if len(matrices) < 2:
        return
    st.subheader("Do the models agree?")
    if len(texts) < 3:
        st.caption("Comparing the models' judgements needs at least 3 texts.")
        return
    names_list = list(matrices)
    agreement = pd.DataFrame(
        [[similarity.matrix_spearman(matrices[a], matrices[b]) for b in names_list] for a in names_list],
        index=names_list, columns=names_list,
    )
    st.markdown("Spearman correlation between models' similarity matrices (off-diagonal pairs).",
                help=glossary.helps("Spearman"))
    st.dataframe(agreement.style.format(precision=3), key="sim_agree")
    c1, c2 = st.columns(2)
    first = c1.selectbox("Difference: model A", names_list, index=state.choice_index("sim_diff_a", names_list, 0), key="sim_diff_a")
    second = c2.selectbox("minus model B", names_list, index=state.choice_index("sim_diff_b", names_list, 1), key="sim_diff_b")
    if first != second:
        st.plotly_chart(charts.difference(matrices[first], matrices[second], texts, first, second), key="sim_diff")


def geometry_section(sample_vectors: dict[str, np.ndarray], *, centered: bool, geometry_source: str) -> None:
    """6. How each space uses its room: anisotropy, top principal component, norms."""
    st.subheader("Geometry")
    n_sample = len(next(iter(sample_vectors.values())))
    st.caption(
        f"Measured on {n_sample} texts ({'BBC News titles' if geometry_source == REFERENCE else 'the texts above'})"
        f"{', mean-centered' if centered else ''}. Mean random-pair cosine near 0 = a space that uses its room; "
        "near 1 = anisotropic (everything points one way).",
        help=glossary.helps("anisotropy", "top-PC variance"),
    )
    geo_rows = []
    for name, vecs in sample_vectors.items():
        g = similarity.geometry(vecs, centered=centered)
        geo_rows.append({"model": name, "mean_cosine": g.mean_cosine, "top_pc_share": g.top_pc_share,
                         "norm_mean": g.norm_mean, "norm_cv": g.norm_cv, "n": g.n})
    st.dataframe(pd.DataFrame(geo_rows).set_index("model").rename(columns=GEOMETRY_COLUMNS).style.format(precision=3),
                 key="sim_geometry", column_config=glossary.column_help({GEOMETRY_COLUMNS["mean_cosine"]: "anisotropy",
                                                                         GEOMETRY_COLUMNS["top_pc_share"]: "top-PC variance"}))
    col_a, col_b = st.columns(2)
    col_a.plotly_chart(charts.geometry_bars(geo_rows), key="sim_geo_bars")
    pair_values = {name: similarity.upper_triangle(similarity.centered_cosine_matrix(vecs, vecs) if centered
                                                   else similarity.cosine_matrix(vecs))
                   for name, vecs in sample_vectors.items()}
    col_b.plotly_chart(charts.pair_histograms(pair_values), key="sim_geo_hist")


st.title("Similarity")
st.caption(
    "Cosine similarity as each model sees it, on one shared colour scale. Raw decoder states and "
    "CLS pooling crowd every text into one narrow cone (everything looks similar); contrastively "
    "trained mean pooling spreads unrelated texts apart."
)
chosen_texts, pair_kinds = texts_section()
loaded, center_vectors, geometry_on = models_section()
vectors, geometry_vectors = embed_section(loaded, chosen_texts, geometry_on)
similarities = {name: similarity.centered_cosine_matrix(vecs, geometry_vectors[name]) if center_vectors
                else similarity.cosine_matrix(vecs) for name, vecs in vectors.items()}
heatmaps_section(similarities, chosen_texts, pair_kinds)
agreement_section(similarities, chosen_texts)
geometry_section(geometry_vectors, centered=center_vectors, geometry_source=geometry_on)
