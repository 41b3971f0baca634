"""Every upload page given the files users really have: empty, binary, in Latin-1, with duplicated
headers, the wrong columns, numbers where text should be, a broken JSONL line. Each answers with an
st.error that names the file and says what is wrong, never an exception."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.views import open_view

pytestmark = pytest.mark.slow

ROWS = 12
LATIN1 = "text\n" + "".join(f"Caf\xe9 number {i}\n" for i in range(ROWS))
# (file name, bytes, what the error must say); the columns each page looks for are filled in below
COMMON = [
    ("empty.csv", b"", "empty.csv is empty"),
    ("garbage.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "garbage.csv looks like a binary file"),
    ("latin1.csv", LATIN1.encode("latin-1"), "latin1.csv is not UTF-8 text"),
    ("broken.jsonl", b'{"text": "fine"}\n{"text": "broken\n', "broken.jsonl as JSONL: line 2"),
]


def table(header: list[str], row) -> bytes:
    return (",".join(header) + "\n" + "".join(",".join(row(i)) + "\n" for i in range(ROWS))).encode()


def duplicated(header: list[str]) -> tuple:
    raw = table([*header, header[0]], lambda i: [f"text {i}"] * (len(header) + 1))
    return "dup.csv", raw, f"dup.csv has the column header {header[0]!r} twice"


def numbers(header: list[str], column: str) -> tuple:
    raw = table(header, lambda i: [str(i * 1.5) if c == column else f"text {c} {i}" for c in header])
    return "numbers.csv", raw, f"Column {column!r} of numbers.csv holds numbers, not text"


def check(at: AppTest, key: str, cases: list[tuple]) -> None:
    for name, raw, message in cases:
        at.session_state[key] = (name, raw)
        at.run()
        assert not at.exception, (name, at.exception)
        errors = [e.value for e in at.error]
        assert any(message in e for e in errors), (name, message, errors)


def test_explorer():
    # The explorer guesses the text column, so numbers are refused when no other column holds text
    # (picking such a column by hand is tested in test_explorer_page.py).
    at = open_view("explorer", exp_source="Upload a file", exp_file=("empty.csv", b""))
    check(at, "exp_file", [*COMMON, duplicated(["text", "label"]), numbers(["text"], "text"),
                           ("ids.csv", table(["id", "price"], lambda i: [str(i), str(i / 2)]),
                            "'id' of ids.csv holds numbers, not text; ids.csv has no column of text"),
                           ("codes.csv", table(["text"], lambda i: [f"A{i}"]),
                            "'text' of codes.csv holds short codes such as 'A0', 'A1', not text to embed; "
                            "codes.csv has no column of text")])


def test_retrieval():
    at = open_view("retrieval", ret_source="Upload a corpus (queries and qrels optional)",
                   ret_up_corpus_kept=("empty.csv", b""), ret_models=["wordllama"])
    check(at, "ret_up_corpus_kept", [*COMMON, duplicated(["_id", "text"]), numbers(["_id", "text"], "text"),
                                     ("wrong.csv", table(["name", "words"], lambda i: [f"n{i}", "w"]),
                                      "no id column; expected one of _id, id")])


def test_finetune():
    at = open_view("finetune", ft_source="Upload pairs or triplets (CSV, TSV, JSONL, Parquet)",
                   ft_upload_kept=("empty.csv", b""))
    check(at, "ft_upload_kept", [*COMMON, duplicated(["anchor", "positive"]),
                                 numbers(["anchor", "positive"], "positive"),
                                 ("wrong.csv", table(["a", "b"], lambda i: [f"x{i}", f"y{i}"]),
                                  "Could not find the training columns")])


def test_benchmark():
    at = open_view("benchmark", bench_models=[], bench_tasks=[], bench_kind="Near-duplicates (text)",
                   bench_upload_kept=("empty.csv", b""))
    check(at, "bench_upload_kept", [*COMMON, duplicated(["text", "id"]), numbers(["text", "id"], "text")])
    at.selectbox(key="bench_kind").set_value("STS (sentence1, sentence2, score)").run()
    check(at, "bench_upload_kept", [("wrong.csv", table(["a", "b"], lambda i: [f"x{i}", f"y{i}"]),
                                     "Column 'a' must be numeric")])


def test_a_utf16_semicolon_file_is_read_and_the_page_says_how():
    raw = ("id;text\n" + "".join(f"{i};document number {i}, with a comma\n" for i in range(ROWS))).encode("utf-16")
    at = open_view("explorer", exp_source="Upload a file", exp_file=("excel.csv", raw))
    assert not at.error and not at.exception
    assert any("Read excel.csv as ';'-separated" in c.value for c in at.caption)
    assert any(f"{ROWS:,} documents" in m.value for m in at.markdown)


def npy(array) -> bytes:
    import io

    import numpy as np

    out = io.BytesIO()
    np.save(out, np.asarray(array))
    return out.getvalue()


def vector_cases(n: int) -> list[tuple]:
    """Vector files that cannot serve an ``n``-document corpus, and what the error must say."""
    import numpy as np

    good = np.ones((n, 4)) + np.arange(n)[:, None]
    nan = good.copy()
    nan[2, 1] = np.nan
    zero = good.copy()
    zero[4] = 0.0
    ragged = "\n".join(f'{{"emb": {[1.0] * (4 if i != 3 else 5)}}}' for i in range(n)).encode()
    return [
        ("short.npy", npy(good[:-2]), f"short.npy has {n - 2} vectors but the corpus has {n} rows"),
        ("flat.npy", npy(np.arange(384.0)), "flat.npy holds a 1-D array of 384 numbers"),
        ("nan.npy", npy(nan), "Row 3 of nan.npy has NaN or infinite values"),
        ("zero.npy", npy(zero), "Row 5 of zero.npy is all zeros"),
        ("words.npy", b"not an array at all", "words.npy is not a NumPy .npy file"),
        ("ragged.jsonl", ragged, "Row 4 of column 'emb' in ragged.jsonl has 5 numbers where row 1 has 4"),
        ("text.jsonl", "\n".join('{"emb": "none"}' for _ in range(n)).encode(), "it has none"),
    ]


def test_explorer_vectors():
    corpus = table(["text"], lambda i: [f"document number {i}"])
    at = open_view("explorer", exp_source="Upload a file", exp_file=("docs.csv", corpus),
                   exp_vec_file=("empty.npy", b""))
    check(at, "exp_vec_file", vector_cases(ROWS))


def test_retrieval_vectors():
    corpus = table(["_id", "text"], lambda i: [f"d{i}", f"document number {i}"])
    at = open_view("retrieval", ret_source="Upload a corpus (queries and qrels optional)", ret_models=[],
                   ret_up_corpus_kept=("corpus.csv", corpus), ret_docvec_file=("empty.npy", b""))
    check(at, "ret_docvec_file", vector_cases(ROWS))


def test_benchmark_vectors():
    rows = table(["text", "label"], lambda i: [f"document number {i}", "ab"[i % 2]])
    at = open_view("benchmark", bench_models=[], bench_tasks=[], bench_kind="Clustering (text, label)",
                   bench_upload_kept=("rows.csv", rows), bench_vec_file=("empty.npy", b""))
    check(at, "bench_vec_file", [(n, raw, m.replace("the corpus", "the table")) for n, raw, m in vector_cases(ROWS)])
