"""Static distillation of the real MiniLM, once per module through the CLI (a real process and its
exit code), then used by name: vectors, the cache, the zoo, and what is refused."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from embedlab import DataError, OptionError, load_model
from embedlab.bundled import bbc_news
from embedlab.models.distilled import distill_model, is_distilled, parent_of
from embedlab.models.registry import finetuned_dir, resolve_spec

pytestmark = pytest.mark.slow

NAME = "minilm-static"


def cli(home, *argv):
    env = {**os.environ, "EMBEDLAB_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "embedlab", *argv], env=env, capture_output=True, text=True,
                          timeout=1800)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("distill") / "home"
    done = cli(home, "distill", "--model", "minilm", "--output", NAME, "--json")
    assert done.returncode == 0, done.stderr
    assert "Encoding each vocabulary token with minilm" in done.stderr  # progress, through our callback
    assert "it/s" not in done.stderr  # no tqdm bar of model2vec's or transformers' own
    return home, json.loads(done.stdout)


@pytest.fixture
def in_home(home, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_HOME", str(home[0]))
    return home[0]


def test_the_distilled_model_joins_the_zoo(home, in_home):
    result = home[1]
    assert result["name"] == NAME and result["parent"] == "minilm" and result["dim"] == 256
    assert result["vocabulary"] > 20_000  # MiniLM's WordPiece vocabulary, [unused] tokens removed
    assert [p.name for p in finetuned_dir().iterdir()] == [NAME]  # no temporary folder left
    spec = resolve_spec(NAME)
    assert is_distilled(spec) and spec.dim == 256 and spec.max_seq_length == 256 and parent_of(NAME) == "minilm"


def test_encode_by_name_gives_finite_unit_vectors(in_home):
    titles = bbc_news()["title"].tolist()[:300]
    vectors = load_model(NAME, cache=False).encode(titles)
    assert vectors.shape == (300, 256) and vectors.dtype == np.float32
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_the_static_model_still_ranks_paraphrases_first(in_home):
    model = load_model(NAME, cache=False)
    a, b, c = model.encode(["The cat sat on the mat.", "A cat was sitting on a rug.",
                            "Stock markets fell sharply after the bank's report."])
    assert a @ b > a @ c + 0.2


def test_the_cache_keeps_it_apart_from_its_parent(in_home):
    texts = ["shares rose on tuesday", "the match ended in a draw"]
    distilled, parent = load_model(NAME), load_model("minilm")
    assert distilled.inner.cache_key("document") != parent.inner.cache_key("document")
    first = distilled.encode(texts)
    assert parent.encode(texts).shape == (2, 384)
    again = load_model(NAME).encode(texts)  # from the cache now: its own vectors, not minilm's
    assert again.shape == (2, 256)
    np.testing.assert_allclose(again, first, atol=1e-6)


def test_a_taken_name_is_refused_before_any_work(in_home):
    before = sorted(p.name for p in finetuned_dir().iterdir())
    with pytest.raises(DataError, match="already exists"):
        distill_model("minilm", NAME)
    with pytest.raises(OptionError, match="already a static"):
        distill_model(NAME, "static-of-static")
    with pytest.raises(OptionError, match="decoder"):
        distill_model("smollm2", "smollm2-static")
    assert sorted(p.name for p in finetuned_dir().iterdir()) == before


def test_cli_uses_it_by_name_and_refuses_with_exit_2(home, tmp_path):
    listed = cli(home[0], "models", "--json")
    assert listed.returncode == 0
    assert {"name": NAME, "kind": "static", "dim": 256} .items() <= next(
        r for r in json.loads(listed.stdout) if r["name"] == NAME).items()
    out = tmp_path / "v.npy"
    texts = tmp_path / "t.csv"
    texts.write_text("text\nfirst news story\nsecond news story\n")
    embedded = cli(home[0], "embed", "--model", NAME, "--input", str(texts), "--output", str(out))
    assert embedded.returncode == 0, embedded.stderr
    assert np.load(out).shape == (2, 256)
    taken = cli(home[0], "distill", "--model", "minilm", "--output", NAME)
    assert taken.returncode == 2 and taken.stderr.startswith("error: ") and "already exists" in taken.stderr
    decoder = cli(home[0], "distill", "--model", "smollm2", "--output", "x")
    assert decoder.returncode == 2 and "decoder" in decoder.stderr
