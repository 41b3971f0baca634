"""The CLI end to end (MiniLM is fast enough to run for real): outputs and exit codes."""

import json

import numpy as np
import pandas as pd
import pytest

from embedlab.cli import main

pytestmark = pytest.mark.slow


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_models_json(capsys):
    code, out, _ = run(capsys, "models", "--json")
    rows = json.loads(out)
    assert code == 0
    assert {r["name"] for r in rows} >= {"minilm", "mpnet", "smollm2", "wordllama"}


def test_embed_to_npy_and_parquet(capsys, tmp_path):
    data = tmp_path / "docs.csv"
    pd.DataFrame({"id": [1, 2, 3], "body": ["first text", "", "third text"]}).to_csv(data, index=False)
    code, _, err = run(capsys, "embed", "--model", "minilm", "--input", str(data), "--text-column", "body",
                       "--output", str(tmp_path / "e.npy"))
    assert code == 0 and "1 empty" in err
    vecs = np.load(tmp_path / "e.npy")
    assert vecs.shape == (2, 384)
    code, _, _ = run(capsys, "embed", "--model", "minilm", "--input", str(data), "--text-column", "body",
                     "--output", str(tmp_path / "e.parquet"))
    table = pd.read_parquet(tmp_path / "e.parquet")
    assert code == 0 and table["id"].tolist() == ["1", "3"] and len(table["embedding"][0]) == 384
    np.testing.assert_allclose(np.stack(table["embedding"]), vecs, atol=1e-6)


def test_eval_sts_on_a_csv_is_the_mteb_computation(capsys, tmp_path):
    from sklearn.metrics.pairwise import paired_cosine_distances
    from scipy.stats import spearmanr

    from embedlab import load_model

    pairs = pd.DataFrame({
        "sentence1": ["A cat sits on a mat.", "He plays guitar.", "The market crashed.", "I like tea.", "Dogs bark."],
        "sentence2": ["A cat is sitting on a rug.", "A man plays an instrument.", "Rain is expected.", "Tea is nice.", "The sun is hot."],
        "score": [4.8, 3.5, 0.2, 3.9, 0.5],
    })
    path = tmp_path / "sts.tsv"
    pairs.to_csv(path, sep="\t", index=False)
    code, out, _ = run(capsys, "eval", "sts", "--model", "minilm", "--data", str(path), "--json")
    result = json.loads(out)
    model = load_model("minilm", cache=False)
    cos = 1 - paired_cosine_distances(model.encode(pairs["sentence1"].tolist()), model.encode(pairs["sentence2"].tolist()))
    assert code == 0 and result["n_pairs"] == 5
    assert result["cosine_spearman"] == pytest.approx(spearmanr(pairs["score"], cos).statistic, abs=1e-6)


def test_eval_sts_custom_columns_and_lee(capsys, tmp_path):
    path = tmp_path / "p.jsonl"
    pd.DataFrame({"a": ["x y", "y z", "z w"], "b": ["x", "y", "q"], "s": [1, 2, 3]}).to_json(path, orient="records", lines=True)
    code, out, _ = run(capsys, "eval", "sts", "--model", "wordllama", "--data", str(path),
                       "--col1", "a", "--col2", "b", "--score", "s")
    assert code == 0 and "cosine Spearman" in out
    code, out, _ = run(capsys, "eval", "sts", "--model", "wordllama", "--data", "lee", "--json")
    assert code == 0 and json.loads(out)["n_pairs"] == 1225


@pytest.mark.parametrize("argv, message", [
    (["eval", "sts", "--model", "nope", "--data", "lee"], "Unknown model 'nope'"),
    (["eval", "sts", "--model", "minilm@avg", "--data", "lee"], "Valid pooling modes: mean, cls"),
    (["eval", "sts", "--model", "minilm", "--data", "missing.csv"], "File not found"),
    (["embed", "--model", "minilm", "--input", "lee.csv", "--output", "x.txt"], "must end in .npy or .parquet"),
])
def test_errors_exit_2_with_one_clear_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_malformed_and_incomplete_files(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence1,sentence2,score\na,b,1\nc,d,2,extra,cells\n")
    code, _, err = run(capsys, "eval", "sts", "--model", "minilm", "--data", str(bad))
    assert code == 2 and "Could not read bad.csv as CSV" in err
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("left,right,score\na,b,1\n")
    code, _, err = run(capsys, "eval", "sts", "--model", "minilm", "--data", str(nocol))
    assert code == 2 and "'sentence1', 'sentence2' not found" in err and "left, right, score" in err
    words = tmp_path / "words.csv"
    words.write_text("sentence1,sentence2,score\na,b,high\nc,d,1\ne,f,2\n")
    code, _, err = run(capsys, "eval", "sts", "--model", "minilm", "--data", str(words))
    assert code == 2 and "must be numeric" in err


def test_module_entry_point_exit_code(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "embedlab", "eval", "sts", "--model", "nope", "--data", "lee"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("error: Unknown model")


def test_cluster_reports_clusters_keywords_and_v_measure(capsys, tmp_path):
    from tests.fakes import topic_corpus

    path = tmp_path / "topics.jsonl"
    topic_corpus().to_json(path, orient="records", lines=True)
    code, out, _ = run(capsys, "cluster", "--model", "minilm", "--input", str(path), "--label-column", "label",
                       "--min-cluster-size", "8", "--json")
    result = json.loads(out)
    assert code == 0 and result["documents"] == 60
    assert result["v_measure"] > 0.8
    sizes = sum(c["size"] for c in result["clusters"])
    assert sizes == 60
    words = {w for c in result["clusters"] for w in c["keywords"]}
    assert {"telescope", "striker"} & words
    found = [c for c in result["clusters"] if c["cluster"] != -1]
    assert sorted(c["top_label"] for c in found) == sorted(set(topic_corpus()["label"]))  # one cluster per topic
    assert all(c["top_label_share"] == 1.0 for c in found)
    code, out, _ = run(capsys, "cluster", "--model", "minilm", "--input", str(path), "--min-cluster-size", "8")
    assert code == 0 and "clusters over 60 documents" in out


def test_cluster_errors(capsys, tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("text\none\ntwo\nthree\n")
    code, _, err = run(capsys, "cluster", "--model", "wordllama", "--input", str(path))
    assert code == 2 and "fewer than min_cluster_size" in err
    code, _, err = run(capsys, "cluster", "--model", "wordllama", "--input", str(path), "--label-column", "topic")
    assert code == 2 and "'topic' not found" in err
