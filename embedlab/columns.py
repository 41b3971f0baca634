"""Which columns of a user's table hold the texts, the labels and the ids: guessed by name and content,
and a text column that holds no text (numbers, short codes) refused with a message saying which to pick.

A name alone is not trusted: a column called ``text`` full of ``A12``-style codes is not the text, and a
column called ``id`` with repeated values is not an id. Content alone decides when no name fits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from embedlab.errors import DataError
from embedlab.tables import number_like, refuse_numbers

# Names in order of preference (matched case-insensitively against the whole name or one of its words,
# so "Body", "article_text" and "doc-id" are found).
TEXT_NAMES: tuple[str, ...] = ("text", "body", "content", "contents", "abstract", "document", "passage",
                               "article", "description", "review", "sentence", "message", "comment", "title")
LABEL_NAMES: tuple[str, ...] = ("label", "labels", "category", "categories", "topic", "class", "genre", "tag",
                                "section", "target")
ID_NAMES: tuple[str, ...] = ("id", "_id", "doc_id", "docid", "uid", "uuid", "key")
MAX_LABELS = 50  # more distinct values than this are not a label a colour legend can show
SHORT_CODE = 3  # single-token cells never longer than this are codes ("GB", "x", "A1"), not text


@dataclass(frozen=True)
class ColumnGuess:
    """The columns most likely to hold a table's texts, labels and ids (None: no column fits)."""

    text: str | None
    label: str | None
    id: str | None


def _cells(values: pd.Series) -> list:
    """The non-empty cells of a column."""
    return [v for v in values.tolist()
            if not (v is None or (isinstance(v, float) and pd.isna(v)) or (isinstance(v, str) and not v.strip()))]


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


def _name_rank(name: str, names: tuple[str, ...]) -> int | None:
    """The position in ``names`` of the best name ``name`` matches (whole, or one of its words)."""
    whole, words = name.strip().lower(), _words(name)
    ranks = [i for i, wanted in enumerate(names) if wanted == whole or wanted.strip("_") in words]
    return min(ranks) if ranks else None


def non_text_reason(values: pd.Series) -> str | None:
    """Why a column is not text to embed ("numbers", "short codes such as 'A12', 'B7'"), or None if it is text.

    Codes: every cell is a single token that has a digit in it (ids, dates, SKUs) or is at most
    ``SHORT_CODE`` characters long (country codes, grades).
    """
    cells = _cells(values)
    if not cells:
        return "no text"
    if all(number_like(v) for v in cells):
        return "numbers"
    strings = [v.strip() for v in cells if isinstance(v, str)]
    if len(strings) == len(cells) and all(
            not any(ch.isspace() for ch in s) and (len(s) <= SHORT_CODE or any(ch.isdigit() for ch in s))
            for s in strings):
        examples = ", ".join(repr(s) for s in list(dict.fromkeys(strings))[:2])
        return f"short codes such as {examples}"
    return None


def _mean_length(values: pd.Series) -> float:
    strings = [v for v in _cells(values) if isinstance(v, str)]
    return sum(len(s) for s in strings) / len(strings) if strings else 0.0


def text_columns(df: pd.DataFrame) -> list[str]:
    """The columns that hold text, most likely text column first: a text name (in ``TEXT_NAMES`` order),
    then the longest mean cell length."""
    usable = [str(c) for c in df.columns if non_text_reason(df[c]) is None]
    named = sorted((c for c in usable if _name_rank(c, TEXT_NAMES) is not None),
                   key=lambda c: _name_rank(c, TEXT_NAMES))
    rest = sorted((c for c in usable if c not in named), key=lambda c: -_mean_length(df[c]))
    return [*named, *rest]


def _is_label(values: pd.Series, *, named: bool = False) -> bool:
    """Repeated short values that are not continuous numbers (scores, prices): at least two, and at most
    ``MAX_LABELS``; a column not named like a label must also have at most one per two rows."""
    cells = _cells(values)
    distinct = {str(v).strip() for v in cells}
    most = min(MAX_LABELS, len(cells) - 1 if named else len(cells) // 2)
    if not 2 <= len(distinct) <= most:
        return False
    if all(number_like(v) for v in cells) and not all(_whole(v) for v in cells):
        return False
    return sum(len(s) for s in distinct) / len(distinct) <= 40


def _whole(value) -> bool:
    """True/false or a whole number (an integer class code), not a measurement like 0.73."""
    text = str(value).strip().lower()
    return text in ("true", "false") or float(text).is_integer()


def _is_id(values: pd.Series) -> bool:
    """Every row has a value, all different, each one token (a unique title is not an id)."""
    cells = _cells(values)
    strings = [str(v).strip() for v in cells]
    return (len(cells) == len(values) > 1 and len(set(strings)) == len(strings)
            and not any(ch.isspace() for s in strings for ch in s))


def _by_name_then_content(candidates: list[str], names: tuple[str, ...], fits) -> str | None:
    """The best-named candidate for which ``fits(column, named=True)``, else the first that fits by content."""
    named = sorted((c for c in candidates if _name_rank(c, names) is not None), key=lambda c: _name_rank(c, names))
    return (next((c for c in named if fits(c, named=True)), None)
            or next((c for c in candidates if fits(c, named=False)), None))


def guess_columns(df: pd.DataFrame) -> ColumnGuess:
    """The text, label and id columns of ``df``, each named like one (``TEXT_NAMES``, ``LABEL_NAMES``,
    ``ID_NAMES``) and holding what such a column holds, else the first column whose content fits.

    Labels prefer strings to integer codes; a column is used for one role only.
    """
    texts = text_columns(df)
    text = texts[0] if texts else None
    rest = [str(c) for c in df.columns if c != text]
    label = _by_name_then_content(
        sorted(rest, key=lambda c: all(number_like(v) for v in _cells(df[c]))),  # strings first, stable
        LABEL_NAMES, lambda c, named: _is_label(df[c], named=named))
    id_col = _by_name_then_content([c for c in rest if c != label], ID_NAMES, lambda c, named: _is_id(df[c]))
    return ColumnGuess(text, label, id_col)


def refuse_non_text(df: pd.DataFrame, column: str) -> None:
    """A DataError when ``column`` holds numbers or short codes instead of text, naming the columns
    that do hold text. (Numbers are refused by ``tables.refuse_numbers``, whose message this keeps.)"""
    refuse_numbers(df, column)
    reason = non_text_reason(df[column])
    if reason is None or reason == "no text":  # an empty column gets text_column's own message
        return
    source = df.attrs.get("source") or "the file"
    others = [c for c in text_columns(df) if c != column]
    pick = f"pick a text column: {', '.join(others)}." if others else f"{source} has no column of text."
    raise DataError(f"Column {column!r} of {source} holds {reason}, not text to embed; {pick}")
