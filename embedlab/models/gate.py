"""The quality gate of a fast variant (``minilm+int8``): how far its vectors are from its fp32 parent's.

Measured once, when the variant is first built, on a fixed bundled check: the 50 Lee documents (whose
1,225 human-scored pairs give an STS Spearman) and the first 300 BBC News titles. Stored as JSON beside
the export; a variant whose Spearman drops by more than ``DEGRADED_DROP`` is marked degraded.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
from scipy.stats import spearmanr

from embedlab.embedder import l2_normalize
from embedlab.paths import atomic_write_json, models_dir

if TYPE_CHECKING:
    from embedlab.models.spec import ModelSpec

log = logging.getLogger(__name__)

GATE_VERSION = 1
GATE_TITLES = 300
DEGRADED_DROP = 0.01  # Spearman points a variant may lose against its parent before it is "degraded"


@dataclass(frozen=True)
class GateCheck:
    """The fixed texts of the gate: Lee documents (scored pairs index into them) then BBC titles."""

    texts: tuple[str, ...]
    pairs: np.ndarray  # (n_pairs, 2) indices into texts
    scores: np.ndarray  # (n_pairs,) human similarity


@dataclass(frozen=True)
class Gate:
    name: str  # the variant, e.g. "minilm@cls+int8"
    parent: str  # its fp32 PyTorch parent, e.g. "minilm@cls"
    backend: str
    texts: int
    mean_cosine: float  # between the variant's and the parent's vector of the same text
    min_cosine: float
    parent_spearman: float  # Lee STS, cosine similarity against the human scores
    variant_spearman: float
    built_at: float = 0.0
    isa: str = ""  # the CPU instruction set ONNX Runtime ran the export on

    @property
    def spearman_difference(self) -> float:
        return self.variant_spearman - self.parent_spearman

    @property
    def degraded(self) -> bool:
        return -self.spearman_difference > DEGRADED_DROP

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "spearman_difference": self.spearman_difference,
                "degraded": self.degraded}


def gate_check() -> GateCheck:
    """The bundled check every variant is gated on (the same texts for every model)."""
    from embedlab import bundled

    docs = bundled.lee_documents()
    lee = bundled.lee_sts()
    index = {doc: i for i, doc in enumerate(docs)}
    pairs = np.array([(index[a], index[b]) for a, b in zip(lee.sentences1, lee.sentences2)])
    titles = bundled.bbc_news()["title"].head(GATE_TITLES).tolist()
    return GateCheck(tuple(docs) + tuple(titles), pairs, np.asarray(lee.scores, dtype=float))


def gate_numbers(parent: np.ndarray, variant: np.ndarray, pairs: np.ndarray, scores: np.ndarray) -> dict:
    """Cosine of each text's two vectors (mean, min) and each model's STS Spearman over ``pairs``."""
    parent, variant = l2_normalize(parent), l2_normalize(variant)  # (texts, dim) each
    agreement = np.sum(parent * variant, axis=1)  # (texts,)

    def spearman(vectors: np.ndarray) -> float:
        cosine = np.sum(vectors[pairs[:, 0]] * vectors[pairs[:, 1]], axis=1)
        return float(spearmanr(scores, cosine).statistic)

    return {"texts": len(agreement), "mean_cosine": float(agreement.mean()), "min_cosine": float(agreement.min()),
            "parent_spearman": spearman(parent), "variant_spearman": spearman(variant)}


def measure_gate(parent, variant, *, backend: str, isa: str = "", check: GateCheck | None = None) -> Gate:
    """Encode the check with both embedders (no cache: the point is to compare the models themselves)."""
    check = check or gate_check()
    texts: Sequence[str] = list(check.texts)
    numbers = gate_numbers(parent.encode(texts, normalize=False), variant.encode(texts, normalize=False),
                           check.pairs, check.scores)
    return Gate(name=variant.name, parent=parent.name, backend=backend, built_at=time.time(), isa=isa, **numbers)


# ---- storage -----------------------------------------------------------------------------------
def exports_dir() -> Path:
    """Where backend variants are built: ``<data>/models/exports/<fingerprint>/``."""
    return models_dir() / "exports"


def gate_path(export_folder: Path, variant_key: str) -> Path:
    """One gate per variant identity (pooling, prompt, length...) beside the export it measured."""
    return export_folder / f"gate-v{GATE_VERSION}-{variant_key[:16]}.json"


def save_gate(path: Path, gate: Gate) -> None:
    atomic_write_json(path, gate.to_dict(), indent=2)


def read_gate(path: Path) -> Gate | None:
    """A stored gate; an unreadable or outdated file is no gate (it is measured again), never a crash."""
    try:
        data = json.loads(path.read_text())
        fields = {f.name for f in dataclasses.fields(Gate)}
        return Gate(**{k: v for k, v in data.items() if k in fields})
    except (OSError, ValueError, TypeError) as exc:
        log.warning("Ignoring the unreadable quality gate %s (%s); it is measured again on next load.", path, exc)
        return None


def built_gates() -> dict[str, Gate]:
    """Every variant built in this data folder, by name; the newest gate wins a name built twice."""
    found: dict[str, Gate] = {}
    for path in sorted(exports_dir().glob(f"*/gate-v{GATE_VERSION}-*.json")):
        gate = read_gate(path)
        if gate is not None and (gate.name not in found or gate.built_at > found[gate.name].built_at):
            found[gate.name] = gate
    return found


def gate_for(name: str) -> Gate | None:
    """The quality gate of a built variant (``minilm+int8``); None if it was never built here."""
    return built_gates().get(name.strip())


def built_variants() -> list[tuple[ModelSpec, Gate]]:
    """Each built variant whose model can still be resolved, with its gate, by name (what the model
    lists offer beside the catalog)."""
    from embedlab.errors import EmbedlabError
    from embedlab.models.registry import resolve_spec

    rows = []
    for name, gate in sorted(built_gates().items()):
        try:
            rows.append((resolve_spec(name), gate))
        except EmbedlabError:  # its base model was removed: nothing to offer
            continue
    return rows
