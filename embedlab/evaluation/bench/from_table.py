"""Benchmark tasks from a table (an uploaded file, a CSV given to the CLI): which columns each kind
reads, which rows are usable, and the task built from them. The Benchmark page and ``embedlab eval``
both build their tasks here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pandas as pd

from embedlab.errors import DataError, OptionError
from embedlab.evaluation.bench.kinds import (
    classification_task,
    clustering_task,
    dedup_task,
    pair_classification_task,
    sts_task,
)
from embedlab.evaluation.bench.task import Task

TABLE_KINDS: dict[str, tuple[str, ...]] = {
    "sts": ("sentence1", "sentence2", "score"),
    "clustering": ("text", "label"),
    "classification": ("text", "label"),
    "pair-classification": ("sentence1", "sentence2", "label"),
    "dedup": ("text",),
}
"""The task kinds a table can make, and the columns each reads: their roles, which are also the
column names used when none is given."""


@dataclass(frozen=True)
class LabelledTexts:
    """The rows of a table that have both a text and a label."""

    texts: list[str]
    labels: list
    rows: list[int]  # row positions in the table, aligned with ``texts``
    report: str  # what was left out and why; "" when every row was used


@dataclass(frozen=True)
class TableTask:
    """A task built from a table, and which of the table's texts it holds."""

    task: Task
    texts: list[str]  # one-text-per-row kinds: the task's texts in order (dedup groups index them)
    rows: list[int]  # their row positions in the table; empty for the pair kinds
    report: str  # rows left out and why; "" when none


def labelled_texts(table: pd.DataFrame, text_column: str, label_column: str) -> LabelledTexts:
    """Rows with a text and a label (labels stripped); rows without either are skipped and reported."""
    from embedlab.tables import require_columns
    from embedlab.tables import text_column as read_texts

    column = read_texts(table, text_column)
    require_columns(table, [label_column])
    raw = table[label_column].tolist()
    texts, labels, rows = [], [], []
    for text, row in zip(column.texts, column.rows):
        label = raw[row]
        if label is None or (isinstance(label, float) and pd.isna(label)) or (isinstance(label, str) and not label.strip()):
            continue
        texts.append(text)
        labels.append(label.strip() if isinstance(label, str) else label)
        rows.append(row)
    if not texts:
        raise DataError(f"No row has both a text in {text_column!r} and a label in {label_column!r}.")
    skipped = len(table) - len(texts)
    report = (f"Skipped {skipped} row(s) without text in {text_column!r} or without a label in "
              f"{label_column!r}." if skipped else "")
    return LabelledTexts(texts, labels, rows, report)


def scored_pairs(table: pd.DataFrame, column1: str, column2: str,
                 target: str) -> tuple[list[str], list[str], list[float]]:
    """(sentences1, sentences2, numbers) of a pairs table; an empty sentence or a non-numeric
    target is an error that names the row."""
    from embedlab.tables import numeric_column, require_columns

    require_columns(table, [column1, column2, target])
    s1, s2 = _sentences(table[column1]), _sentences(table[column2])
    empty = [i + 1 for i, (a, b) in enumerate(zip(s1, s2)) if not a.strip() or not b.strip()]
    if empty:
        raise DataError(f"{len(empty)} pair(s) have an empty sentence (first at row {empty[0]}).")
    return s1, s2, numeric_column(table, target).tolist()


def _sentences(values: pd.Series) -> list[str]:
    # A missing cell is an empty sentence, not the text "nan"
    return ["" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v) for v in values.tolist()]


def task_from_table(table: pd.DataFrame, kind: str, *, name: str, columns: Mapping[str, str] | None = None,
                    **options) -> TableTask:
    """The ``kind`` task named ``name`` on ``table``. ``columns`` maps a role of ``TABLE_KINDS[kind]``
    to the table's column (default: the column named as the role); ``options`` go to the task
    builder (e.g. ``threshold`` for dedup, ``seed`` or ``test_texts`` for classification)."""
    from embedlab.tables import text_column

    if kind not in TABLE_KINDS:
        raise OptionError(f"A table cannot make a {kind!r} task. Valid kinds: {', '.join(TABLE_KINDS)}.")
    roles = TABLE_KINDS[kind]
    unknown = sorted(set(columns or {}) - set(roles))
    if unknown:
        raise OptionError(f"A {kind} task has no column role {unknown[0]!r}. Roles: {', '.join(roles)}.")
    col = {role: role for role in roles} | dict(columns or {})
    if kind in ("sts", "pair-classification"):
        build = sts_task if kind == "sts" else pair_classification_task
        return TableTask(build(name, *scored_pairs(table, *(col[r] for r in roles)), **options), [], [], "")
    if kind == "dedup":
        found = text_column(table, col["text"])
        return TableTask(dedup_task(name, found.texts, **options), found.texts, found.rows, found.report)
    data = labelled_texts(table, col["text"], col["label"])
    build = clustering_task if kind == "clustering" else classification_task
    return TableTask(build(name, data.texts, data.labels, **options), data.texts, data.rows, data.report)


def sts_pairs(table: pd.DataFrame, column1: str, column2: str, score: str, *, name: str):
    """A ``PairSet`` (STS set) from a table, checked as ``sts_task`` checks it, before anything is embedded."""
    import numpy as np

    from embedlab.bundled import PairSet
    from embedlab.evaluation.sts import check_pairs

    s1, s2, gold = check_pairs(*scored_pairs(table, column1, column2, score))
    return PairSet(name, s1, s2, np.asarray(gold))
