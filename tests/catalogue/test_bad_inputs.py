"""The bad-input catalogue: each row is something a user can get wrong, the exit code and the words
the CLI must answer with, and the promise that nothing on disk changed.

Arguments written ``W/name`` are files of ``tests/catalogue/files.py`` made in the test's workspace.
Every case runs the real CLI in-process (``embedlab.cli.main``): a Python exception escaping it is a
traceback the user would have seen, and fails the case whatever its exit code. Cases marked slow
load a bundled model (the static wordllama unless the case is about another).
"""

from __future__ import annotations

import hashlib
import re
import traceback
from pathlib import Path

import pytest

from embedlab.cli import main
from tests.catalogue.files import MAKERS, make

SLOW = pytest.mark.slow
M = "wordllama"  # the fastest bundled model, for cases that get as far as loading one

# (id, argv, exit code, regex the output must match (case-insensitive), marks)
CASES = [
    # -- files -----------------------------------------------------------------------------------
    ("embed-missing-file", ["embed", "--model", M, "--input", "W/nope.csv", "--output", "W/o.npy"], 2, r"(not found|no such|does not exist).*nope\.csv|nope\.csv.*(not found|no such|does not exist)", ()),
    ("embed-input-is-folder", ["embed", "--model", M, "--input", "W/folder", "--output", "W/o.npy"], 2, r"folder.*(is a folder|directory)", ()),
    ("embed-empty-file", ["embed", "--model", M, "--input", "W/empty.csv", "--output", "W/o.npy"], 2, r"empty\.csv.*empty", ()),
    ("embed-header-only", ["embed", "--model", M, "--input", "W/header_only.csv", "--output", "W/o.npy"], 2, r"header_only\.csv.*(no rows|empty|no text)", ()),
    ("embed-blank-txt", ["embed", "--model", M, "--input", "W/blank.txt", "--output", "W/o.npy"], 2, r"blank\.txt.*(empty|no text)", ()),
    ("embed-missing-column", ["embed", "--model", M, "--input", "W/docs.csv", "--text-column", "body", "--output", "W/o.npy"], 2, r"body.*(column|not found)", ()),
    ("embed-bad-quotes", ["embed", "--model", M, "--input", "W/bad_quotes.csv", "--output", "W/o.npy"], 2, r"bad_quotes\.csv", ()),
    ("embed-bad-jsonl", ["embed", "--model", M, "--input", "W/bad.jsonl", "--output", "W/o.npy"], 2, r"bad\.jsonl.*line 2", ()),
    ("embed-bad-parquet", ["embed", "--model", M, "--input", "W/bad.parquet", "--output", "W/o.npy"], 2, r"bad\.parquet", ()),
    ("embed-numbers-only", ["embed", "--model", M, "--input", "W/numbers.csv", "--text-column", "price", "--output", "W/o.npy"], 2, r"price.*(number|not text)", ()),
    ("embed-duplicate-headers", ["embed", "--model", M, "--input", "W/dup_header.csv", "--output", "W/o.npy"], 2, r"dup_header\.csv.*(duplicate|twice|repeated)", ()),
    ("embed-latin1", ["embed", "--model", M, "--input", "W/latin1.csv", "--output", "W/o.npy"], 2, r"latin1\.csv.*utf-8", ()),
    ("embed-utf16-bom", ["embed", "--model", M, "--input", "W/utf16.csv", "--output", "W/o.npy"], 0, r"wrote 2 x", (SLOW,)),
    ("embed-semicolon", ["embed", "--model", M, "--input", "W/semicolon.csv", "--output", "W/o.npy"], 0, r"wrote 3 x", (SLOW,)),
    ("embed-output-is-folder", ["embed", "--model", M, "--input", "W/docs.csv", "--output", "W/folder"], 2, r"folder", ()),
    ("embed-output-folder-npy", ["embed", "--model", M, "--input", "W/docs.csv", "--output", "W/folder.npy/"], 2, r"folder\.npy", ()),
    ("embed-output-suffix", ["embed", "--model", M, "--input", "W/docs.csv", "--output", "W/o.txt"], 2, r"\.npy or \.parquet", ()),
    ("embed-output-unwritable", ["embed", "--model", M, "--input", "W/docs.csv", "--output", "/proc/embedlab/o.npy"], 2, r"/proc/embedlab", ()),
    ("embed-embedding-column", ["embed", "--model", M, "--input", "W/embedding_col.csv", "--output", "W/o.parquet"], 2, r"embedding.*(already|exists|column)", ()),
    ("embed-mixed-types-parquet", ["embed", "--model", M, "--input", "W/mixed.jsonl", "--output", "W/o.parquet"], 0, r"wrote 3 x", (SLOW,)),
    ("embed-batch-zero", ["embed", "--model", M, "--input", "W/docs.csv", "--batch-size", "0", "--output", "W/o.npy"], 2, r"batch", ()),
    ("embed-batch-negative", ["embed", "--model", M, "--input", "W/docs.csv", "--batch-size", "-3", "--output", "W/o.npy"], 2, r"batch", ()),
    # -- models ----------------------------------------------------------------------------------
    ("model-unknown", ["embed", "--model", "no-such-model", "--input", "W/docs.csv", "--output", "W/o.npy"], 2, r"no-such-model", ()),
    ("model-bad-pooling", ["embed", "--model", "minilm@median", "--input", "W/docs.csv", "--output", "W/o.npy"], 2, r"median.*(mean|valid)", ()),
    ("model-missing-folder", ["embed", "--model", "/no/such/model/folder", "--input", "W/docs.csv", "--output", "W/o.npy"], 2, r"/no/such/model/folder", ()),
    ("model-empty-folder", ["embed", "--model", "W/empty_model_folder", "--input", "W/docs.csv", "--output", "W/o.npy"], 2, r"empty_model_folder", ()),
    ("model-modules-json-list", ["embed", "--model", "W/st_list_modules", "--input", "W/docs.csv", "--output", "W/o.npy"], 2, r"modules\.json", ()),
    ("model-modules-json-strings", ["embed", "--model", "W/st_list_modules_strings", "--input", "W/docs.csv", "--output", "W/o.npy"], 2, r"modules\.json", ()),
    ("model-embedlab-json-list", ["embed", "--model", "W/model_json_list", "--input", "W/docs.csv", "--output", "W/o.npy"], 2, r"embedlab_model\.json", ()),
    ("model-embedlab-json-broken", ["embed", "--model", "W/model_json_broken", "--input", "W/docs.csv", "--output", "W/o.npy"], 2, r"embedlab_model\.json", ()),
    # -- eval sts --------------------------------------------------------------------------------
    ("sts-missing-file", ["eval", "sts", "--model", M, "--data", "W/nope.csv"], 2, r"nope\.csv", ()),
    ("sts-missing-columns", ["eval", "sts", "--model", M, "--data", "W/docs.csv"], 2, r"sentence1", ()),
    ("sts-words-as-scores", ["eval", "sts", "--model", M, "--data", "W/pairs_words.csv"], 2, r"score.*(number|numeric)", ()),
    ("sts-inf-score", ["eval", "sts", "--model", M, "--data", "W/pairs_inf.csv"], 2, r"(inf|finite)", ()),
    ("sts-missing-score", ["eval", "sts", "--model", M, "--data", "W/pairs_nan.csv"], 2, r"(missing|empty|nan|numeric)", ()),
    ("sts-two-pairs", ["eval", "sts", "--model", M, "--data", "W/pairs_two.csv"], 2, r"at least 3", ()),
    ("sts-flat-scores", ["eval", "sts", "--model", M, "--data", "W/pairs_flat.csv"], 2, r"equal", ()),
    ("sts-empty-sentence", ["eval", "sts", "--model", M, "--data", "W/pairs_empty_text.csv"], 2, r"empty", ()),
    ("sts-batch-zero", ["eval", "sts", "--model", M, "--data", "W/pairs.csv", "--batch-size", "0"], 2, r"batch", ()),
    # -- eval retrieval --------------------------------------------------------------------------
    ("ret-top-k-zero", ["eval", "retrieval", "--model", M, "--data", "bbc", "--top-k", "0"], 2, r"top.k", ()),
    ("ret-top-k-negative", ["eval", "retrieval", "--model", M, "--data", "bbc", "--top-k", "-5"], 2, r"top.k", ()),
    ("ret-depth-zero", ["eval", "retrieval", "--model", M, "--data", "bbc", "--rerank", "maxsim:minilm", "--rerank-depth", "0"], 2, r"depth", ()),
    ("ret-max-queries-negative", ["eval", "retrieval", "--model", M, "--data", "bbc", "--max-queries", "-1"], 2, r"max.queries", ()),
    ("ret-no-data", ["eval", "retrieval", "--model", M], 2, r"--data", ()),
    ("ret-data-and-files", ["eval", "retrieval", "--model", M, "--data", "bbc", "--corpus", "W/corpus.jsonl"], 2, r"not both", ()),
    ("ret-missing-folder", ["eval", "retrieval", "--model", M, "--data", "W/nope"], 2, r"nope", ()),
    ("ret-beir-without-qrels", ["eval", "retrieval", "--model", M, "--data", "W/beir_no_qrels"], 2, r"qrels", ()),
    ("ret-qrels-unknown-ids", ["eval", "retrieval", "--model", M, "--corpus", "W/corpus.jsonl", "--queries", "W/queries.jsonl", "--qrels", "W/qrels_unknown.tsv"], 2, r"(qrels|judg)", ()),
    ("ret-unknown-reranker", ["eval", "retrieval", "--model", M, "--data", "bbc", "--rerank", "magic:minilm"], 2, r"magic", ()),
    ("ret-nothing-to-run", ["eval", "retrieval", "--data", "bbc"], 2, r"--model", ()),
    ("ret-unknown-model", ["eval", "retrieval", "--model", "nope-model", "--data", "bbc"], 2, r"nope-model", ()),
    # -- eval clustering / classification / pair-classification / dedup ------------------------
    ("clu-one-label", ["eval", "clustering", "--model", M, "--data", "W/one_label.csv"], 2, r"at least 2", ()),
    ("clu-missing-label-column", ["eval", "clustering", "--model", M, "--data", "W/docs.csv", "--label-column", "topic"], 2, r"topic", ()),
    ("clu-runs-zero", ["eval", "clustering", "--model", M, "--data", "W/docs.csv", "--runs", "0"], 2, r"runs", ()),
    ("clu-fraction-too-big", ["eval", "clustering", "--model", M, "--data", "W/docs.csv", "--max-fraction", "2"], 2, r"max-fraction|fraction", ()),
    ("cls-rare-label", ["eval", "classification", "--model", M, "--data", "W/rare_label.csv"], 2, r"(label|class)", ()),
    ("cls-test-data-missing", ["eval", "classification", "--model", M, "--data", "W/docs.csv", "--test-data", "W/nope.csv"], 2, r"nope\.csv", ()),
    ("cls-test-size", ["eval", "classification", "--model", M, "--data", "W/docs.csv", "--test-size", "1.5"], 2, r"test-size|test_size", ()),
    ("pair-labels-not-binary", ["eval", "pair-classification", "--model", M, "--data", "W/pair_labels_two.csv"], 2, r"0.*1", ()),
    ("pair-labels-all-one", ["eval", "pair-classification", "--model", M, "--data", "W/pair_labels_ones.csv"], 2, r"both 0 and 1", ()),
    ("dedup-threshold", ["eval", "dedup", "--model", M, "--data", "W/docs.csv", "--threshold", "2"], 2, r"threshold", ()),
    ("dedup-show-negative", ["eval", "dedup", "--model", M, "--data", "W/docs.csv", "--show", "-1"], 2, r"show", ()),
    # -- cluster ---------------------------------------------------------------------------------
    ("cluster-mcs-one", ["cluster", "--model", M, "--input", "W/docs.csv", "--min-cluster-size", "1"], 2, r"min[-_]cluster[-_]size", ()),
    ("cluster-mcs-too-big", ["cluster", "--model", M, "--input", "W/docs.csv", "--min-cluster-size", "500"], 2, r"min[-_]cluster[-_]size", ()),
    ("cluster-empty", ["cluster", "--model", M, "--input", "W/empty.csv"], 2, r"empty", ()),
    ("cluster-missing-label", ["cluster", "--model", M, "--input", "W/docs.csv", "--label-column", "topic"], 2, r"topic", ()),
    ("cluster-numbers", ["cluster", "--model", M, "--input", "W/numbers.csv", "--text-column", "price"], 2, r"price", ()),
    # -- finetune --------------------------------------------------------------------------------
    ("ft-one-row", ["finetune", "--model", "minilm", "--data", "W/triplets_one.csv", "--output", "ft-x"], 2, r"(row|at least)", ()),
    ("ft-bad-output-name", ["finetune", "--model", "minilm", "--data", "W/triplets.csv", "--output", "../evil"], 2, r"name", ()),
    ("ft-epochs-zero", ["finetune", "--model", "minilm", "--data", "W/triplets.csv", "--output", "ft-x", "--epochs", "0"], 2, r"epoch", ()),
    ("ft-held-out", ["finetune", "--model", "minilm", "--data", "W/triplets.csv", "--output", "ft-x", "--held-out", "1.5"], 2, r"held", ()),
    ("ft-lr-negative", ["finetune", "--model", "minilm", "--data", "W/triplets.csv", "--output", "ft-x", "--lr", "-1"], 2, r"(lr|learning rate)", ()),
    ("ft-no-positive", ["finetune", "--model", "minilm", "--data", "W/anchors_only.csv", "--output", "ft-x"], 2, r"positive", ()),
    ("ft-missing-data", ["finetune", "--model", "minilm", "--data", "W/nope.csv", "--output", "ft-x"], 2, r"nope\.csv", ()),
    ("ft-batch-one", ["finetune", "--model", "minilm", "--data", "W/triplets.csv", "--output", "ft-x", "--batch-size", "0"], 2, r"batch", ()),
    ("ft-unknown-model", ["finetune", "--model", "nope-model", "--data", "W/triplets.csv", "--output", "ft-x"], 2, r"nope-model", ()),
    # -- bench -----------------------------------------------------------------------------------
    ("bench-no-models", ["bench", "--models", " , "], 2, r"model", ()),
    ("bench-unknown-task", ["bench", "--models", M, "--tasks", "lee-sts,nope-task"], 2, r"nope-task", ()),
    ("bench-csv-folder", ["bench", "--models", M, "--tasks", "lee-sts", "--csv", "W/folder"], 2, r"folder", ()),
]


def _snapshot(root: Path) -> dict[str, str]:
    """Every file below ``root`` (the workspace and the data folder) with its content hash; the
    embedding and results caches may grow, so they are left out."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if "/cache/" in f"/{rel}" or not path.is_file():
            continue
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _expand(argv: list[str], ws: Path) -> list[str]:
    out = []
    for arg in argv:
        if arg.startswith("W/"):
            name = arg[2:].rstrip("/")
            if name in MAKERS:
                make(ws, name)
            arg = str(ws / name) + ("/" if arg.endswith("/") else "")
        out.append(arg)
    return out


def run_case(argv: list[str], capsys) -> tuple[int, str, str | None]:
    """(exit code, everything printed, the traceback if a Python exception escaped)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: its own usage error, exit 2
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - that is what this test looks for
        out, err = capsys.readouterr()
        return -1, out + err, traceback.format_exc()
    out, err = capsys.readouterr()
    return code, out + err, None


@pytest.mark.parametrize("argv, code, pattern", [pytest.param(a, c, p, id=i, marks=m) for i, a, c, p, m in CASES])
def test_catalogue(argv, code, pattern, tmp_path, monkeypatch, capsys):
    ws = tmp_path / "ws"
    ws.mkdir()
    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(ws)
    args = _expand(argv, ws)
    before = _snapshot(tmp_path)
    got, output, trace = run_case(args, capsys)
    assert trace is None, f"traceback instead of an error line:\n{trace}"
    assert got == code, f"exit {got}, expected {code}:\n{output}"
    assert re.search(pattern, output, re.IGNORECASE | re.DOTALL), f"{pattern!r} not in:\n{output}"
    if code != 0:
        assert "error:" in output
        assert _snapshot(tmp_path) == before, "a failed command changed files on disk"


def test_catalogue_is_large_enough():
    assert len(CASES) >= 60 and len({c[0] for c in CASES}) == len(CASES)
