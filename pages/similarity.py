"""Similarity: how do several models judge the same texts, and how healthy is each space?"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from embedlab import bundled, similarity
from ui import charts, shell, state
from ui.models import encode, load_many, model_choices

shell.require_router()

MAX_TEXTS = 60
GEOMETRY_SAMPLE = 300
EXAMPLE = "Example set: paraphrase / same topic / unrelated"
TYPED = "Type or paste texts"
REFERENCE = f"BBC News titles ({GEOMETRY_SAMPLE}, all topics)"
THESE = "The texts above"
VARIANTS = ["minilm@cls", "smollm2@mean", "smollm2@weighted-mean", "mpnet@cls"]

st.title("Similarity")
st.caption(
    "Cosine similarity as each model sees it, on one shared colour scale. Raw decoder states and "
    "CLS pooling crowd every text into one narrow cone (everything looks similar); contrastively "
    "trained mean pooling spreads unrelated texts apart."
)

# 1. Texts ---------------------------------------------------------------------------------------
source = st.radio("Texts", [EXAMPLE, TYPED], key=state.SIM_SOURCE, horizontal=True)
kinds = None
if source == EXAMPLE:
    examples = bundled.similarity_examples()
    texts = examples["text"].tolist()
    kinds = bundled.pair_kinds(examples["topic"].tolist(), examples["group"].tolist())
    with st.expander(f"The {len(texts)} example texts (4 topics; each topic has a paraphrase pair)"):
        st.dataframe(examples[["topic", "text"]], hide_index=False)
else:
    raw = st.text_area("One text per line", key=state.SIM_TEXT, height=180,
                       placeholder="The cat sat on the mat.\nA cat was sitting on a rug.\nStocks fell on Monday.")
    texts = [line.strip() for line in raw.splitlines() if line.strip()]
    if len(texts) < 2:
        st.info("Enter at least two texts, one per line.")
        st.stop()
    if len(texts) > MAX_TEXTS:
        st.warning(f"{len(texts)} texts given; the heatmaps use the first {MAX_TEXTS}.")
        texts = texts[:MAX_TEXTS]

# 2. Models --------------------------------------------------------------------------------------
options = list(dict.fromkeys([*model_choices(), *VARIANTS, *st.session_state[state.SIM_MODELS]]))
names = st.multiselect(
    "Models, 1 to 4 (type NAME@POOLING for a pooling variant, e.g. mpnet@max)",
    options, key=state.SIM_MODELS, max_selections=4, accept_new_options=True,
)
left, right = st.columns(2)
centered = left.toggle("Mean-center before cosine", key=state.SIM_CENTER,
                       help="Subtract the mean embedding of the geometry sample; removes the shared direction.")
geometry_source = right.radio("Geometry measured on", [REFERENCE, THESE], key=state.SIM_GEOMETRY_SOURCE, horizontal=True)
if not names:
    st.info("Pick at least one model.")
    st.stop()

models, errors = load_many(names)
for name, message in errors.items():
    st.error(f"**{name}** could not be used: {message}")
if not models:
    st.stop()

# 3. Encode (raw vectors: norms feed the geometry panel; the disk cache makes reruns instant) ----
sample = texts
if geometry_source == REFERENCE:
    titles = bundled.bbc_news()["title"]
    sample = titles.sample(n=GEOMETRY_SAMPLE, random_state=0).tolist()
raw_vectors, sample_vectors = {}, {}
for name, model in models.items():
    raw_vectors[name] = encode(model, texts, normalize=False, label=f"{name}: embedding {len(texts)} texts")
    sample_vectors[name] = (raw_vectors[name] if sample is texts else
                            encode(model, sample, normalize=False, label=f"{name}: geometry sample"))

matrices = {}
for name, vecs in raw_vectors.items():
    shift = sample_vectors[name].mean(axis=0) if centered else 0.0
    matrices[name] = similarity.cosine_matrix(vecs - shift)

# 4. Heatmaps ------------------------------------------------------------------------------------
st.subheader("Cosine similarity")
st.plotly_chart(charts.heatmaps(matrices, texts), key="sim_heatmaps")

if kinds is not None:
    rows = []
    for name, m in matrices.items():
        means = similarity.kind_means(m, kinds)
        rows.append({"model": name, **means, "paraphrase − unrelated": means["paraphrase"] - means["unrelated"],
                     "paraphrase is nearest": f"{similarity.paraphrase_hits(m, kinds)}/{int((kinds == 'paraphrase').any(axis=1).sum())}"})
    st.markdown("**Mean cosine by pair kind** — a useful model separates the columns; a poor one scores everything alike.")
    st.dataframe(pd.DataFrame(rows).set_index("model").style.format(precision=3), key="sim_kinds")

if len(matrices) >= 2:
    st.subheader("Do the models agree?")
    names_list = list(matrices)
    agreement = pd.DataFrame(
        [[similarity.matrix_spearman(matrices[a], matrices[b]) for b in names_list] for a in names_list],
        index=names_list, columns=names_list,
    )
    st.markdown("Spearman correlation between models' similarity matrices (off-diagonal pairs).")
    st.dataframe(agreement.style.format(precision=3), key="sim_agree")
    c1, c2 = st.columns(2)
    first = c1.selectbox("Difference: model A", names_list, index=0, key="sim_diff_a")
    second = c2.selectbox("minus model B", names_list, index=1, key="sim_diff_b")
    if first != second:
        st.plotly_chart(charts.difference(matrices[first], matrices[second], texts, first, second), key="sim_diff")

# 5. Geometry ------------------------------------------------------------------------------------
st.subheader("Geometry")
st.caption(
    f"Measured on {len(sample)} texts ({'BBC News titles' if geometry_source == REFERENCE else 'the texts above'})"
    f"{', mean-centered' if centered else ''}. Mean random-pair cosine near 0 = a space that uses its room; "
    "near 1 = anisotropic (everything points one way)."
)
geo_rows = []
for name, vecs in sample_vectors.items():
    g = similarity.geometry(vecs, centered=centered)
    geo_rows.append({"model": name, "mean_cosine": g.mean_cosine, "top_pc_share": g.top_pc_share,
                     "norm_mean": g.norm_mean, "norm_cv": g.norm_cv, "n": g.n})
st.dataframe(
    pd.DataFrame(geo_rows).set_index("model").rename(columns={
        "mean_cosine": "mean cosine (random pairs)", "top_pc_share": "variance on top PC",
        "norm_mean": "mean norm", "norm_cv": "norm spread (std/mean)", "n": "texts"}).style.format(precision=3),
    key="sim_geometry",
)
col_a, col_b = st.columns(2)
col_a.plotly_chart(charts.geometry_bars(geo_rows), key="sim_geo_bars")
pair_values = {}
for name, vecs in sample_vectors.items():
    base = similarity.center(vecs) if centered else vecs
    pair_values[name] = similarity.upper_triangle(similarity.cosine_matrix(base))
col_b.plotly_chart(charts.pair_histograms(pair_values), key="sim_geo_hist")
