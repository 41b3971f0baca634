"""Static distillation without a real model: what is refused before any work, and the static embedder
on a tiny hand-made model2vec table (known answers)."""

import numpy as np
import pytest
from model2vec import StaticModel
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace

from embedlab import DataError, ModelSpec, OptionError
from embedlab.cli import main
from embedlab.models.distilled import (
    DistilledEmbedder,
    check_dims,
    check_distillable,
    distill_model,
)
from embedlab.models.registry import finetuned_dir

WORDS = ["[UNK]", "[PAD]", "cat", "dog", "sat", "query"]


def tiny_embedder(prompt: str = "", max_len: int = 256) -> DistilledEmbedder:
    tokenizer = Tokenizer(WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()
    vectors = np.array([[0, 0, 0], [0, 0, 0], [3, 0, 0], [0, 4, 0], [0, 0, 2], [1, 1, 1]], dtype=np.float32)
    model = StaticModel(vectors=vectors, tokenizer=tokenizer, normalize=False, max_length=max_len)
    spec = ModelSpec(name="tiny", kind="static", source="local", location="/nowhere", pooling="mean", dim=3,
                     query_prompt=prompt, max_seq_length=max_len)
    return DistilledEmbedder(spec, model, fingerprint="tiny-table")


def test_encode_is_the_normalised_mean_of_the_token_vectors():
    model = tiny_embedder()
    raw = model.encode(["cat dog", "sat", "cat cat sat"], normalize=False)
    np.testing.assert_allclose(raw, [[1.5, 2, 0], [0, 0, 2], [2, 0, 2 / 3]], rtol=1e-6)
    unit = model.encode(["cat dog", "sat"])
    np.testing.assert_allclose(unit, [[0.6, 0.8, 0], [0, 0, 1]], rtol=1e-6)
    assert unit.dtype == np.float32 and model.dim == 3


def test_batches_and_progress_do_not_change_the_vectors():
    model = tiny_embedder()
    texts = [("cat dog sat " * (i % 5 + 1)).strip() for i in range(1300)]
    seen = []
    a = model.encode(texts, batch_size=1, progress=lambda done, total: seen.append((done, total)))
    np.testing.assert_allclose(model.encode(texts, batch_size=700), a, atol=1e-6)
    assert seen[-1] == (1300, 1300) and len(seen) == 3  # progress in chunks of 512
    with pytest.raises(OptionError, match="batch_size"):
        model.encode(texts, batch_size=0)


def test_query_prompt_is_prepended_and_changes_the_cache_key():
    model = tiny_embedder(prompt="query ")
    np.testing.assert_allclose(model.encode(["cat"], role="query", normalize=False), [[2, 0.5, 0.5]])
    np.testing.assert_allclose(model.encode(["cat"], role="document", normalize=False), [[3, 0, 0]])
    assert model.cache_key("query") != model.cache_key("document")
    assert tiny_embedder(max_len=8).cache_key("document") != tiny_embedder().cache_key("document")


def test_token_lengths_are_not_truncated_but_encode_reads_the_window():
    model = tiny_embedder(max_len=2)
    assert model.token_lengths(["cat dog sat", "cat"]).tolist() == [3, 1]
    # only the first two tokens count: (cat + dog) / 2
    np.testing.assert_allclose(model.encode(["cat dog sat"], normalize=False), [[1.5, 2, 0]])


def test_decoders_static_models_and_other_poolings_are_refused():
    base = dict(source="local", location="/x", dim=8)
    with pytest.raises(OptionError, match="decoder"):
        check_distillable(ModelSpec(name="d", kind="decoder", pooling="last", **base))
    with pytest.raises(OptionError, match="already a static"):
        check_distillable(ModelSpec(name="s", kind="static", pooling="mean", **base))
    with pytest.raises(OptionError, match="@mean"):
        check_distillable(ModelSpec(name="e", kind="encoder", pooling="max", **base))
    check_distillable(ModelSpec(name="e", kind="encoder", pooling="cls", **base))


@pytest.mark.parametrize("dims", [0, 1, -3, 2.5, True])
def test_bad_dims_are_refused(dims):
    with pytest.raises(OptionError, match="dims"):
        check_dims(dims)


def test_dims_above_the_parent_are_refused():
    assert check_dims(384, 384) == 384
    with pytest.raises(OptionError, match="at most 384"):
        check_dims(385, 384)


def test_names_are_checked_before_any_model_loads(tmp_home):
    with pytest.raises(DataError, match="bundled"):
        distill_model("minilm", "mpnet")
    (finetuned_dir() / "taken").mkdir()
    with pytest.raises(DataError, match="already exists"):
        distill_model("minilm", "taken")
    with pytest.raises(OptionError, match="Output name"):
        distill_model("minilm", "bad@name")
    with pytest.raises(OptionError, match="decoder"):  # smollm2 is never prepared: refused from its spec
        distill_model("smollm2", "fresh")
    with pytest.raises(OptionError, match="static"):
        distill_model("wordllama", "fresh")
    assert [p.name for p in finetuned_dir().iterdir()] == ["taken"]


def test_cli_refusals_exit_2_with_one_error_line(tmp_home, capsys):
    for argv, message in ((["--model", "smollm2", "--output", "x"], "decoder"),
                          (["--model", "minilm", "--output", "minilm"], "bundled"),
                          (["--model", "nope", "--output", "x"], "Unknown model")):
        assert main(["distill", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err
    with pytest.raises(SystemExit) as stop:
        main(["distill", "--model", "minilm", "--output", "x", "--dims", "0"])
    assert stop.value.code == 2
