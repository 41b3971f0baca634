"""ONNX Runtime variants of the real MiniLM: built once, equal to PyTorch in fp32, gated, cached apart."""

import json

import numpy as np
import pytest

from embedlab import load_model
from embedlab.cache import CachedEmbedder, EmbeddingCache
from embedlab.models.gate import built_gates, gate_for
from embedlab.models.onnx_backend import META_FILE, MODEL_FILE, export_folder

pytestmark = pytest.mark.slow

TEXTS = [
    "A man is playing a guitar on the street corner.",
    "Stocks fell.",
    "The committee postponed its decision on the new budget until after the summer recess, "
    "citing unresolved questions about long-term funding for regional hospitals and schools.",
    "",
]


@pytest.fixture(scope="module")
def minilm():
    return load_model("minilm", cache=False)


@pytest.mark.parametrize("name", ["minilm+onnx", "minilm@cls+onnx"])
def test_fp32_onnx_gives_the_pytorch_vectors(name):
    torch_model = load_model(name.removesuffix("+onnx"), cache=False)
    variant = load_model(name, cache=False)
    assert variant.spec.backend == "onnx" and variant.dim == torch_model.dim == 384
    cosine = np.sum(variant.encode(TEXTS) * torch_model.encode(TEXTS), axis=1)
    assert cosine.min() > 0.9999
    gate = gate_for(name)
    assert gate is not None and gate.mean_cosine > 0.9999
    assert gate.variant_spearman == pytest.approx(gate.parent_spearman, abs=1e-4)


def test_int8_is_built_once_and_gated(tmp_home, minilm):
    logged = []
    variant = load_model("minilm+int8", cache=False, progress=lambda done, total: logged.append((done, total)))
    folder = export_folder(minilm.fingerprint, "int8")
    assert (folder / MODEL_FILE).exists() and logged[-1] == (3, 3)
    meta = json.loads((folder / META_FILE).read_text())
    assert meta["backend"] == "int8" and meta["parent"] == "minilm" and meta["isa"]
    gate = gate_for("minilm+int8")
    assert gate.texts == 50 + 300 and 0.95 < gate.mean_cosine < 1.0 and gate.min_cosine <= gate.mean_cosine
    assert abs(gate.spearman_difference) < 0.01 and not gate.degraded
    # Its fp32 export was made on the way; gated when it is first loaded itself.
    assert (export_folder(minilm.fingerprint, "onnx") / MODEL_FILE).exists() and "minilm+onnx" not in built_gates()
    # The second load reuses the export and the gate: no build steps.
    logged.clear()
    again = load_model("minilm+int8", cache=False, progress=lambda done, total: logged.append((done, total)))
    assert logged == [] and np.allclose(again.encode(TEXTS), variant.encode(TEXTS), atol=1e-6)


def test_the_cache_keeps_variants_apart(tmp_path, minilm):
    store = EmbeddingCache(tmp_path / "cache")
    names = ["minilm", "minilm+onnx", "minilm+int8"]
    models = {name: CachedEmbedder(load_model(name, cache=False), store) for name in names}
    assert len({m.cache_key("document") for m in models.values()}) == 3
    vectors = {name: m.encode(TEXTS) for name, m in models.items()}
    for model in models.values():  # all cached now: a second pass encodes nothing
        model.encode(TEXTS)
        assert model.last_stats.encoded == 0
    assert not np.array_equal(vectors["minilm+int8"], vectors["minilm"])
    fresh = CachedEmbedder(load_model("minilm+int8", cache=False), store).encode(TEXTS)
    assert np.array_equal(fresh, vectors["minilm+int8"])
