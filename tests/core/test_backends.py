"""Backend variants (``+onnx``, ``+int8``): name parsing, fingerprints and the quality gate's arithmetic."""

import json

import numpy as np
import pytest

from embedlab.errors import ModelLoadError, OptionError
from embedlab.models import CATALOG, resolve_spec
from embedlab.models.gate import (
    DEGRADED_DROP,
    Gate,
    GateCheck,
    built_gates,
    exports_dir,
    gate_for,
    gate_numbers,
    gate_path,
    measure_gate,
    save_gate,
)
from embedlab.models.onnx_backend import cpu_isa, export_folder, variant_fingerprint
from embedlab.models.spec import BACKENDS, ModelSpec, split_backend
from tests.fakes import CountingEmbedder


def test_backend_composes_with_pooling():
    spec = resolve_spec("minilm@cls+int8")
    assert (spec.name, spec.pooling, spec.backend) == ("minilm@cls+int8", "cls", "int8")
    assert spec.parent_name == "minilm@cls" and spec.location == CATALOG["minilm"].location
    decoder = resolve_spec("smollm2@weighted-mean+onnx")
    assert (decoder.pooling, decoder.backend, decoder.padding_side) == ("weighted-mean", "onnx", "left")
    assert resolve_spec("minilm").backend == "torch"
    assert resolve_spec("minilm+torch") == resolve_spec("minilm")
    assert resolve_spec("minilm+int8").with_pooling("max").name == "minilm@max+int8"  # parses back


def test_split_backend_leaves_paths_and_plain_names_alone():
    assert split_backend("minilm") == ("minilm", None)
    assert split_backend("org/model+int8") == ("org/model", "int8")
    assert split_backend("./a+b/model") == ("./a+b/model", None)
    assert split_backend("weird+name@cls") == ("weird+name@cls", None)


def test_unknown_backend_lists_the_valid_ones():
    with pytest.raises(OptionError) as err:
        resolve_spec("minilm+fp16")
    assert "'fp16'" in str(err.value) and all(b in str(err.value) for b in BACKENDS)


def test_a_static_model_has_no_backend_variant():
    with pytest.raises(ModelLoadError, match="static"):
        resolve_spec("wordllama+int8")


def test_a_spec_without_backend_reads_as_torch():
    data = json.loads(CATALOG["minilm"].to_json())
    del data["backend"]
    assert ModelSpec.from_dict(data).backend == "torch"


def test_fingerprints_and_folders_differ_by_backend(tmp_home):
    prints = {b: variant_fingerprint("abc", b) for b in ("onnx", "int8")}
    assert len({*prints.values(), "abc"}) == 3
    assert export_folder("abc", "onnx") != export_folder("abc", "int8") != export_folder("abd", "int8")
    assert export_folder("abc", "int8").parent == tmp_home / "models" / "exports"


@pytest.mark.parametrize(("flags", "isa"), [
    ("fpu sse avx2 avx512f avx512bw avx512_vnni", "avx512-vnni"),
    ("fpu avx2 avx_vnni", "avx-vnni"),
    ("fpu avx2 avx512f avx512bw", "avx512"),
    ("fpu sse4_2 avx2", "avx2"),
    ("fpu sse4_2", "baseline"),
])
def test_cpu_isa_from_flags(flags, isa):
    assert cpu_isa(f"processor\t: 0\nflags\t\t: {flags}\n") == isa


def _check(n_docs=6, n_titles=3) -> GateCheck:
    pairs = np.array([(i, j) for i in range(n_docs) for j in range(i + 1, n_docs)])
    scores = np.arange(len(pairs), dtype=float)
    return GateCheck(tuple(f"text {i}" for i in range(n_docs + n_titles)), pairs, scores)


def test_gate_of_identical_vectors():
    check = _check()
    vectors = np.random.default_rng(0).normal(size=(len(check.texts), 5))
    numbers = gate_numbers(vectors, vectors * 2.0, check.pairs, check.scores)  # scale does not matter
    assert numbers["mean_cosine"] == pytest.approx(1.0) and numbers["min_cosine"] == pytest.approx(1.0)
    assert numbers["parent_spearman"] == pytest.approx(numbers["variant_spearman"])
    assert numbers["texts"] == len(check.texts)


def test_gate_known_answer():
    # Two texts along x; the variant turns the second by 90 degrees: cosines 1 and 0.
    parent = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    variant = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    pairs, scores = np.array([[0, 1], [0, 2], [1, 2]]), np.array([3.0, 1.0, 2.0])
    numbers = gate_numbers(parent, variant, pairs, scores)
    assert numbers["mean_cosine"] == pytest.approx(2 / 3) and numbers["min_cosine"] == pytest.approx(0.0)
    # Parent pair cosines (1, 0, 0); variant's (0, 0, 1): ranked against scores (3, 1, 2).
    assert numbers["parent_spearman"] == pytest.approx(0.8660254)
    assert numbers["variant_spearman"] == pytest.approx(0.0)


def _gate(name="m+int8", parent=0.80, variant=0.79, built_at=1.0) -> Gate:
    return Gate(name=name, parent=name.split("+")[0], backend="int8", texts=9, mean_cosine=0.99, min_cosine=0.95,
                parent_spearman=parent, variant_spearman=variant, built_at=built_at)


def test_degraded_beyond_the_allowed_drop():
    assert not _gate(variant=0.80 - DEGRADED_DROP + 1e-9).degraded
    assert _gate(variant=0.80 - DEGRADED_DROP - 1e-6).degraded
    assert not _gate(variant=0.95).degraded  # better than the parent is fine
    assert _gate(variant=0.75).to_dict()["spearman_difference"] == pytest.approx(-0.05)


def test_measure_gate_on_fakes():
    check = _check()
    gate = measure_gate(CountingEmbedder(name="p"), CountingEmbedder(name="p+int8"), backend="int8", check=check)
    assert (gate.name, gate.parent, gate.texts) == ("p+int8", "p", len(check.texts))
    assert gate.mean_cosine == pytest.approx(1.0) and gate.spearman_difference == pytest.approx(0.0)


def test_gates_are_stored_and_found_by_name(tmp_home):
    folder = exports_dir() / "int8-x"
    folder.mkdir(parents=True)
    save_gate(gate_path(folder, "a" * 64), _gate(variant=0.70, built_at=1.0))
    save_gate(gate_path(exports_dir() / "int8-y", "b" * 64), _gate(variant=0.79, built_at=2.0))
    (folder / gate_path(folder, "c" * 64).name).write_text("{not json")  # unreadable: ignored
    assert gate_for("m+int8").variant_spearman == 0.79  # the newest of the two
    assert set(built_gates()) == {"m+int8"} and gate_for("m+onnx") is None
