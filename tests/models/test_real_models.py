"""The bundled models, loaded offline from their packages, end to end."""

import dataclasses

import numpy as np
import pytest

from embedlab import load_model, resolve_spec
from embedlab.bundled import lee_sts
from embedlab.cache import CachedEmbedder, EmbeddingCache
from embedlab.evaluation.sts import evaluate_sts
from embedlab.models.loader import model_folder
from embedlab.pooling import POOLING_MODES

pytestmark = pytest.mark.slow

TEXTS = [
    "A man is playing a guitar on the street corner.",
    "Stocks fell.",
    "The committee postponed its decision on the new budget until after the summer recess, "
    "citing unresolved questions about long-term funding for regional hospitals and schools.",
    "Rain later.",
]


@pytest.fixture(scope="module")
def minilm():
    return load_model("minilm", cache=False)


def test_minilm_matches_sentence_transformers(minilm):
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(model_folder(minilm.spec)), device="cpu").encode(TEXTS)
    ours = minilm.encode(TEXTS)
    assert ours.dtype == np.float32 and ours.shape == (4, 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
    assert (ours * reference).sum(axis=1).min() > 0.9999


@pytest.mark.parametrize("model", ["minilm", "smollm2"])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("pooling", POOLING_MODES)
def test_batch_equals_alone_for_every_pooling_and_padding_side(model, side, pooling):
    spec = dataclasses.replace(resolve_spec(f"{model}@{pooling}"), padding_side=side)
    embedder = load_model(spec, cache=False)
    batch = embedder.encode(TEXTS, batch_size=4)
    alone = np.concatenate([embedder.encode([t]) for t in TEXTS])
    assert (batch * alone).sum(axis=1).min() >= 0.999


def test_decoder_last_token_is_the_appended_eos():
    smollm2 = load_model("smollm2", cache=False)
    ids = smollm2.tokenize(["hello world"])[0]
    assert ids[-1] == smollm2.tokenizer.eos_token_id
    no_eos = load_model(dataclasses.replace(smollm2.spec, append_eos=False), cache=False)
    assert no_eos.tokenize(["hello world"])[0][-1] != smollm2.tokenizer.eos_token_id
    # Appending EOS changes what last-token pooling sees.
    assert float((smollm2.encode(["hello world"]) * no_eos.encode(["hello world"])).sum()) < 0.999


def test_long_text_is_truncated_not_an_error(minilm):
    long_text = "word " * 2000
    assert minilm.token_lengths([long_text])[0] > minilm.max_seq_length
    assert minilm.encode([long_text]).shape == (1, 384)


def test_wordllama_and_mpnet_load_offline():
    wl = load_model("wordllama", cache=False)
    assert wl.encode(TEXTS).shape == (4, 256)
    mpnet = load_model("mpnet", cache=False)
    vecs = mpnet.encode(TEXTS[:2])
    assert vecs.shape == (2, 768) and mpnet.dim == mpnet.spec.dim


def test_every_catalog_dim_matches_the_loaded_model():
    for name in ["minilm", "smollm2", "wordllama"]:
        model = load_model(name, cache=False)
        assert model.dim == model.spec.dim, name


def test_cached_minilm_gives_identical_vectors(tmp_path, minilm):
    cached = CachedEmbedder(minilm, EmbeddingCache(tmp_path))
    cold = cached.encode(TEXTS)
    warm = cached.encode(TEXTS)
    assert cached.last_stats.encoded == 0
    np.testing.assert_array_equal(cold, warm)
    np.testing.assert_allclose(cold, minilm.encode(TEXTS), atol=1e-6)


def test_lee_sts_matches_sentence_transformers_evaluator(minilm):
    """Cross-check the MTEB-style computation against an independent implementation."""
    from sentence_transformers.evaluation import EmbeddingSimilarityEvaluator

    lee = lee_sts()
    ours = evaluate_sts(minilm, lee.sentences1, lee.sentences2, lee.scores)
    from sentence_transformers import SentenceTransformer

    st_model = SentenceTransformer(str(model_folder(minilm.spec)), device="cpu")
    evaluator = EmbeddingSimilarityEvaluator(lee.sentences1, lee.sentences2, lee.scores.tolist(), name="lee")
    reference = evaluator(st_model)
    assert ours.cosine_spearman == pytest.approx(reference["lee_spearman_cosine"], abs=1e-4)
    assert ours.cosine_pearson == pytest.approx(reference["lee_pearson_cosine"], abs=1e-4)
    assert ours.n_pairs == 1225


def test_raw_decoder_states_are_anisotropic_and_minilm_is_not(minilm):
    """The product's central claim, measured: mean cosine of unrelated Lee documents."""
    from embedlab.bundled import lee_documents
    from embedlab.similarity import geometry

    docs = lee_documents()[:30]
    smollm2 = load_model("smollm2", cache=False)
    assert geometry(smollm2.encode(docs, normalize=False)).mean_cosine > 0.6
    assert geometry(minilm.encode(docs, normalize=False)).mean_cosine < 0.3


def test_minilm_folder_reads_back_as_its_catalog_spec():
    """The sentence-transformers Pooling config of the shipped MiniLM maps to our pooling name."""
    from embedlab.models.registry import spec_from_folder

    spec = spec_from_folder(model_folder(resolve_spec("minilm")), name="mine", source="local")
    catalog = resolve_spec("minilm")
    assert (spec.kind, spec.pooling, spec.max_seq_length) == (catalog.kind, catalog.pooling, catalog.max_seq_length)


def test_throughput_of_a_real_model():
    from embedlab.models.throughput import measure_throughput, sample_texts

    model = load_model("wordllama")
    result = measure_throughput(model, *sample_texts(16))
    assert result.dim == 256 and result.parameters > 1_000_000 and result.load_seconds > 0
    assert result.short_per_s > 0 and result.long_per_s > 0 and 0 <= result.truncated_share <= 1
