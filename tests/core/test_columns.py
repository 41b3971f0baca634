"""Known answers for guessing a table's text, label and id columns, and refusing a non-text column as text."""

import pandas as pd
import pytest

from embedlab.columns import ColumnGuess, guess_columns, non_text_reason, refuse_non_text, text_columns
from embedlab.errors import DataError
from embedlab.tables import read_table, table_documents

ARTICLES = ["Stocks fell sharply after the central bank raised rates again.",
            "The striker scored twice in the second half to win the cup.",
            "A new telescope photographed a galaxy twelve billion years old.",
            "Parliament passed the budget after a long night of debate.",
            "The chef's new restaurant serves pasta made by hand each morning.",
            "Rain delayed the final match until Sunday afternoon."]


def frame(**columns) -> pd.DataFrame:
    df = pd.DataFrame(columns)
    df.attrs["source"] = "upload.csv"
    return df


def test_names_win_when_their_content_fits():
    df = frame(Headline=[a[:20] for a in ARTICLES], Body=ARTICLES,
               Topic=["biz", "sport", "sci", "pol", "food", "sport"],
               doc_ID=[f"n{i}" for i in range(6)], views=["10", "20", "30", "40", "50", "60"])
    assert guess_columns(df) == ColumnGuess("Body", "Topic", "doc_ID")


def test_content_decides_when_no_name_fits():
    df = frame(a=[f"x{i}" for i in range(6)],  # unique single tokens: the ids
               b=[t[:12] for t in ARTICLES],  # shorter texts
               c=ARTICLES,  # the longest texts
               d=["red", "red", "blue", "blue", "red", "blue"])  # two repeated values: the labels
    assert guess_columns(df) == ColumnGuess("c", "d", "a")
    assert text_columns(df) == ["c", "b", "d"]


def test_a_name_whose_content_does_not_fit_is_passed_over():
    df = frame(text=["A1", "A1", "B2", "C3", "D4", "E5"],  # named text, holds codes (neither labels nor ids)
               notes=ARTICLES,
               label=[f"l{i}" for i in range(6)],  # named label, every value different: not a label
               kind=["1", "2", "1", "2", "1", "2"],  # integer class codes are labels
               id=["7", "7", "8", "9", "10", "11"])  # named id, a value repeated: not an id
    guess = guess_columns(df)
    assert guess.text == "notes" and guess.label == "kind"
    assert guess.id == "label"  # every value different, one token each: the only column that fits an id


def test_strings_are_preferred_over_integer_codes_as_labels_and_scores_are_not_labels():
    df = frame(text=ARTICLES, score=["0.5", "0.7", "0.5", "0.7", "0.5", "0.7"],
               year=["2001", "2002", "2001", "2002", "2001", "2002"], desk=["a", "b", "a", "b", "a", "b"])
    assert guess_columns(df).label == "desk"
    assert guess_columns(df.drop(columns="desk")).label == "year"  # whole numbers can be classes; 0.5/0.7 not


def test_a_table_without_text_or_labels_guesses_none():
    assert guess_columns(frame(n=["1", "2", "3"], m=["x 1", "x 1", "x 1"])) == ColumnGuess("m", None, "n")
    assert guess_columns(frame(n=["1", "2", "3"])) == ColumnGuess(None, None, "n")


@pytest.mark.parametrize("values, reason", [
    (["1", "2.5", ""], "numbers"),
    (["A12", "B7", "C3"], "short codes such as 'A12', 'B7'"),
    (["GB", "FR", "DE", "GB"], "short codes such as 'GB', 'FR'"),
    (["2024-01-05", "2024-02-11"], "short codes such as '2024-01-05', '2024-02-11'"),
    ([None, "", "  "], "no text"),
])
def test_what_is_not_text(values, reason):
    assert non_text_reason(pd.Series(values)) == reason


@pytest.mark.parametrize("values", [["cat", "dog", "horse"], ["Stocks fell", "A12"], ["mouse", "GB"],
                                    ["2020", "a year to forget"]])
def test_words_and_sentences_are_text(values):
    assert non_text_reason(pd.Series(values)) is None


def test_refusing_codes_or_numbers_names_the_columns_that_hold_text():
    df = frame(sku=["A12", "B7", "C3", "D4", "E5", "F6"], price=["1.5", "2", "3", "4", "5", "6"], text=ARTICLES)
    with pytest.raises(DataError, match=r"^Column 'sku' of upload\.csv holds short codes such as 'A12', 'B7', "
                                        r"not text to embed; pick a text column: text\.$"):
        refuse_non_text(df, "sku")
    with pytest.raises(DataError, match=r"'price' of upload\.csv holds numbers, not text; pick a text column"):
        refuse_non_text(df, "price")
    refuse_non_text(df, "text")  # text passes
    with pytest.raises(DataError, match=r"holds short codes .* upload\.csv has no column of text\.$"):
        refuse_non_text(frame(sku=["A1", "B2"]), "sku")


def test_a_csv_upload_guesses_then_reads_the_documents():
    raw = ("id,category,body\n" + "".join(f"{i},{'ab'[i % 2]},{t}\n" for i, t in enumerate(ARTICLES))).encode()
    table = read_table(raw, filename="news.csv")
    guess = guess_columns(table)
    assert guess == ColumnGuess("body", "category", "id")
    docs = table_documents(table, guess.text, label_col=guess.label, id_col=guess.id)
    assert docs.ids == [str(i) for i in range(6)] and docs.labels.tolist() == ["a", "b"] * 3
