"""A real collection for page and browser tests: BBC News titles (id, text = title, category), indexed
with ``embedlab.store.build.index``. 1,200 rows by default: above ANN_MIN_ROWS, so it gets an ANN index."""

import json
from pathlib import Path

import pandas as pd

from embedlab.bundled import bbc_news
from embedlab.store.build import index


def titles(n: int = 1_200) -> pd.DataFrame:
    """The first ``n`` BBC articles with distinct titles (id, label, title, text)."""
    return bbc_news().drop_duplicates("title").head(n)


def build(home: Path, frame: pd.DataFrame, models: list[str], name: str = "bbc") -> None:
    """Index ``frame``'s titles as collection ``name`` in the data folder ``home`` (EMBEDLAB_HOME must be
    ``home`` while it runs: a bare name lives there)."""
    rows = home / f"{name}-titles.jsonl"
    rows.write_text("".join(json.dumps({"id": r.id, "text": r.title, "category": r.label}) + "\n"
                            for r in frame.itertuples()))
    index(name, str(rows), models)
