
from pathlib import Path

import pandas as pd
import pytest

from embedlab.bundled import bbc_news, lee_sts, similarity_examples
from embedlab.errors import DataError
from embedlab.tables import numeric_column, read_table, table_documents, text_column


def test_reads_every_format(tmp_path):
    df = pd.DataFrame({"text": ["one", "two"], "score": [1, 2]})
    df.to_csv(tmp_path / "a.csv", index=False)
    df.to_csv(tmp_path / "a.tsv", sep="\t", index=False)
    df.to_json(tmp_path / "a.jsonl", orient="records", lines=True)
    df.to_parquet(tmp_path / "a.parquet")
    (tmp_path / "a.txt").write_text("one\n\n  two  \n")
    for name in ["a.csv", "a.tsv", "a.jsonl", "a.parquet", "a.txt"]:
        got = read_table(tmp_path / name)
        assert got["text"].tolist() == ["one", "two"], name


def test_reads_uploaded_bytes_with_filename():
    got = read_table(b"text,label\nhello,1\n", filename="upload.csv")
    assert got.columns.tolist() == ["text", "label"]


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"", "x.csv", "empty"),
        (b"   \n", "x.csv", "empty"),
        (b"a,b\n1,2\n3,4,5,6\n", "x.csv", "Could not read x.csv as CSV"),
        (b'{"text": "a"}\n{broken\n', "x.jsonl", "Could not read x.jsonl as JSONL"),
        (b"PAR1garbage", "x.parquet", "Could not read x.parquet as PARQUET"),
        (b"a,b\n", "x.csv", "no rows"),
        (b"hello", "x.docx", "Cannot tell the format"),
    ],
)
def test_bad_files_get_clear_errors(content, name, message):
    with pytest.raises(DataError, match=message):
        read_table(content, filename=name)


def test_row_limit():
    with pytest.raises(DataError, match="limit is 2"):
        read_table(b"t\na\nb\nc\n", filename="x.csv", max_rows=2)


def test_missing_column_names_the_columns_there_are():
    df = pd.DataFrame({"body": ["x"], "label": ["y"]})
    with pytest.raises(DataError, match="'text'.*not found.*body, label"):
        text_column(df, "text")


def test_empty_and_non_text_cells_are_reported_and_skipped():
    df = pd.DataFrame({"text": ["ok", "", None, 3.5, "  ", "fine"]})
    col = text_column(df, "text")
    assert col.texts == ["ok", "fine"] and col.rows == [0, 5]
    assert col.skipped_empty == [1, 2, 4] and col.skipped_non_text == [3]
    assert "3 empty" in col.report and "1 non-text" in col.report


def test_documents_keep_labels_and_ids_of_the_kept_rows():
    df = pd.DataFrame({"text": ["ok", "", "fine"], "label": ["a", "b", 3], "id": ["x", "y", "z"]})
    docs = table_documents(df, "text", label_col="label", id_col="id")
    assert docs.texts == ["ok", "fine"] and docs.ids == ["x", "z"] and docs.labels.tolist() == ["a", "3"]
    plain = table_documents(df, "text")
    assert plain.ids == ["1", "3"] and plain.labels is None and plain.column.report == "Skipped 1 empty row(s)."
    assert plain.key == docs.key != table_documents(df.iloc[::-1], "text").key
    with pytest.raises(DataError, match="'topic'.*not found"):
        table_documents(df, "text", label_col="topic")


def test_all_empty_column_is_an_error():
    with pytest.raises(DataError, match="no usable text"):
        text_column(pd.DataFrame({"text": ["", " "]}), "text")


def test_numeric_column_points_at_the_bad_value():
    with pytest.raises(DataError, match="row 2.*'high'"):
        numeric_column(pd.DataFrame({"score": ["1.0", "high"]}), "score")


def test_bundled_lee_sts():
    lee = lee_sts()
    assert len(lee) == 50 * 49 // 2
    assert lee.scores.min() >= 0 and lee.scores.max() <= 1
    assert all(lee.sentences1) and all(lee.sentences2)


def test_bundled_bbc_news():
    bbc = bbc_news()
    assert len(bbc) == 2225
    assert sorted(bbc["label"].unique()) == ["business", "entertainment", "politics", "sports", "tech"]
    assert bbc["title"].str.len().min() > 0 and bbc["text"].str.len().min() > 0
    assert bbc.loc[bbc["id"] == "business/001", "title"].item() == "Ad sales boost Time Warner profit"


def test_similarity_examples_have_paraphrase_pairs():
    ex = similarity_examples()
    assert len(ex) == 12
    assert (ex.groupby("group").size() == 2).sum() == 4


# -- hardening (issue 12): files a user really has ------------------------------------------------
def test_a_folder_missing_or_unreadable_path_is_a_data_error_naming_it(tmp_path, monkeypatch):
    (tmp_path / "folder").mkdir()
    with pytest.raises(DataError, match=r"folder.*is a folder.*file inside it"):
        read_table(tmp_path / "folder")
    with pytest.raises(DataError, match=r"not found: .*nope\.csv"):
        read_table(tmp_path / "nope.csv")
    locked = tmp_path / "locked.csv"
    locked.write_text("text\na\n")

    def refuse(self):  # chmod 0 does not stop root, who runs these tests in CI
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(DataError, match=r"locked\.csv.*permission denied"):
        read_table(locked)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-32"])
def test_a_byte_order_mark_tells_the_encoding(encoding):
    raw = "text,label\ncafé au lait,a\nnaïve art,b\n".encode(encoding)
    got = read_table(raw, filename="x.csv")
    assert got.columns.tolist() == ["text", "label"] and got["text"].tolist() == ["café au lait", "naïve art"]


def test_latin1_is_refused_with_save_as_utf8():
    with pytest.raises(DataError, match=r"x\.csv.*line 2.*save it as UTF-8"):
        read_table("text\nCafé au lait\n".encode("latin-1"), filename="x.csv")


def test_binary_garbage_is_refused_as_not_text():
    with pytest.raises(DataError, match=r"x\.csv.*binary"):
        read_table(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), filename="x.csv")


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_other_delimiters_in_a_csv_are_sniffed(sep):
    raw = sep.join(["id", "text"]) + "\n" + f"1{sep}first, with a comma\n2{sep}second one\n"
    got = read_table(raw.encode(), filename="x.csv")
    assert got.columns.tolist() == ["id", "text"] and got["text"].tolist() == ["first, with a comma", "second one"]
    assert "';'" in got.attrs["notes"][0] if sep == ";" else True


def test_a_single_column_csv_of_sentences_keeps_the_comma():
    got = read_table(b"text\nOne; two; three\nFour; five; six\n", filename="x.csv")
    assert got["text"].tolist() == ["One; two; three", "Four; five; six"]


def test_a_missing_column_suggests_the_delimiter_it_saw():
    df = pd.DataFrame({"id;text": ["1;a"]})  # what a ';' file gives when its rows do not settle the delimiter
    df.attrs["source"] = "x.csv"
    with pytest.raises(DataError, match=r"'text'.*not found in x\.csv.*separated by ';'"):
        text_column(df, "text")


@pytest.mark.parametrize("raw", [b"text,text,label\na,b,c\n", b"id\ttext\ttext\n1\ta\tb\n"])
def test_duplicated_headers_are_refused(raw):
    with pytest.raises(DataError, match=r"x\.(csv|tsv).*'text' twice"):
        read_table(raw, filename="x.tsv" if b"\t" in raw else "x.csv")


@pytest.mark.parametrize("values", [["1.5", "2", "-3e4"], [1.5, 2, 3], [True, False, True], ["true", "False", ""]])
def test_a_column_of_numbers_is_not_a_text_column(values):
    df = pd.DataFrame({"price": values, "title": ["a", "b", "c"], "qty": ["1", "2", "3"]})
    df.attrs["source"] = "shop.csv"
    with pytest.raises(DataError, match=r"'price' of shop\.csv holds numbers, not text; pick a text column: title\.$"):
        text_column(df, "price")


def test_a_text_column_with_some_numbers_is_still_text():
    col = text_column(pd.DataFrame({"text": ["2020", "a year to forget", "42"]}), "text")
    assert col.texts == ["2020", "a year to forget", "42"]


def test_a_malformed_jsonl_line_is_named():
    with pytest.raises(DataError, match=r"bad\.jsonl.*line 3"):
        read_table(b'{"text": "ok"}\n\n{"text": "broken\n{"text": "fine"}\n', filename="bad.jsonl")
    with pytest.raises(DataError, match=r"bad\.jsonl.*line 2.*not a JSON object"):
        read_table(b'{"text": "ok"}\n[1, 2]\n', filename="bad.jsonl")


@pytest.mark.parametrize("content, name", [(b"a,b\n1,2\n3,4,5,6\n", "x.csv"), (b"PAR1garbage", "x.parquet"),
                                           (b"\xef\xbb\xbf", "x.csv"), (b"hello", "x.xlsx"), (b"a,b\n", "x.csv")])
def test_every_reading_error_names_the_file(content, name):
    with pytest.raises(DataError, match=name.replace(".", r"\.")):
        read_table(content, filename=name)


# -- the readers built on read_table: retrieval files and training pairs --------------------------
def test_retrieval_files_name_the_file_and_refuse_numbers_and_latin1(tmp_path):
    from embedlab.retrieval.corpus import read_corpus, read_qrels

    (tmp_path / "corpus").mkdir()
    with pytest.raises(DataError, match=r"corpus is a folder"):
        read_corpus(tmp_path / "corpus")
    with pytest.raises(DataError, match=r"no text column.*found id, body2 in c\.csv"):
        read_corpus(("c.csv", b"id,body2\n1,x\n"))
    with pytest.raises(DataError, match=r"'text' of c\.csv holds numbers"):
        read_corpus(("c.csv", b"id,text,title\n1,2.5,\n2,3,\n"))
    with pytest.raises(DataError, match=r"q\.txt.*save it as UTF-8"):
        read_qrels(("q.txt", "q1 0 caf\xe9 1\n".encode("latin-1")))
    assert read_qrels(("q.txt", b"q1 0 d1 1\nq1 0 d2 0\n")) == {"q1": {"d1": 1, "d2": 0}}


def test_training_columns_of_numbers_are_refused():
    from embedlab.finetune.trainset import from_table

    df = pd.DataFrame({"anchor": [str(i) for i in range(12)], "positive": [f"text {i}" for i in range(12)]})
    df.attrs["source"] = "pairs.csv"
    with pytest.raises(DataError, match=r"'anchor' of pairs\.csv holds numbers, not text"):
        from_table(df)
