"""What a piece of work will cost on this machine, said before it starts.

Encoding speed is remembered per model (its cache key: weights, pooling, backend, prompt, length)
in ``<data folder>/throughput.json`` as tokens per second, each time a model is measured on the
Models page or encodes enough texts in a real run. An estimate for a corpus counts only the texts
the embedding cache does not hold, and their tokens as the model's own tokenizer counts them
(cut at the model's maximum length, as encoding cuts them).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from embedlab.durations import format_seconds
from embedlab.embedder import is_precomputed
from embedlab.paths import atomic_write_json, data_home

log = logging.getLogger(__name__)

RATES_FILE = "throughput.json"
TOKEN_SAMPLE = 256  # texts whose tokens are counted to estimate a corpus' mean length
MIN_SECONDS = 1.0  # shorter encodes say more about overheads than about speed: not remembered
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Rate:
    tokens_per_s: float
    measured: str  # ISO time
    source: str  # "models page", "explorer run", ...


@dataclass(frozen=True)
class Estimate:
    model: str
    texts: int  # texts asked for
    to_encode: int  # distinct texts not in the cache
    seconds: float | None  # None: the speed of this model was never measured here
    rate: Rate | None
    uploaded: bool = False  # the model's vectors were uploaded (embedder.is_precomputed): nothing encodes

    def describe(self, noun: str = "texts") -> str:
        if self.uploaded:
            if self.to_encode:
                return f"{self.model}: {self.to_encode:,} of the {self.texts:,} {noun} have no uploaded vector"
            return f"{self.model}: all {self.texts:,} {noun} already embedded (uploaded vectors)"
        if self.to_encode == 0:
            return f"{self.model}: all {self.texts:,} {noun} already embedded (from the cache)"
        cached = self.texts - self.to_encode
        have = f" ({cached:,} already embedded)" if cached > 0 else ""
        if self.seconds is None:
            return (f"{self.model}: {self.to_encode:,} {noun} to embed{have}; its speed on this machine is not "
                    "known yet (the run measures it)")
        return f"{self.model}: about {format_seconds(self.seconds)} for {self.to_encode:,} {noun}{have} on this machine"


def _rates_path() -> Path:
    return data_home() / RATES_FILE


def _read_rates() -> dict:
    path = _rates_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:  # a damaged file only costs the estimates; it is rewritten on the next measure
        log.warning("Ignoring unreadable %s: %s", path, exc)
        return {}


def _key(model, role: str = "document") -> str:
    return model.cache_key(role)


def remembered_rate(model, *, role: str = "document") -> Rate | None:
    """The speed remembered for ``model``; None when never measured, or when the model has no
    ``cache_key`` to remember it by (uploaded vectors, a bare test fake)."""
    if not callable(getattr(model, "cache_key", None)):
        return None
    entry = _read_rates().get(_key(model, role))
    try:
        return Rate(float(entry["tokens_per_s"]), str(entry["measured"]), str(entry["source"])) if entry else None
    except (KeyError, TypeError, ValueError):
        return None


def remember_rate(model, *, tokens: float, seconds: float, source: str, role: str = "document") -> Rate | None:
    """Keep ``tokens / seconds`` as this model's speed here (None, and nothing kept, for a too-short run)."""
    if seconds < MIN_SECONDS or tokens <= 0:
        return None
    rate = Rate(tokens / seconds, dt.datetime.now().isoformat(timespec="seconds"), source)
    _update_rates(_key(model, role), {"model": model.name, **rate.__dict__}, what=f"the speed of {model.name}")
    return rate


def remembered_pace(step: str) -> float | None:
    """Seconds per unit of a step that is not encoding (e.g. "explorer map+clusters" per document)."""
    try:
        return float(_read_rates()["_paces"][step])
    except (KeyError, TypeError, ValueError):
        return None


def remember_pace(step: str, *, units: int, seconds: float) -> None:
    if units <= 0 or seconds < MIN_SECONDS:
        return
    _update_rates("_paces", {step: seconds / units}, what=f"the pace of {step}", merge=True)


def _update_rates(key: str, value: dict, *, what: str, merge: bool = False) -> None:
    """Read, change one entry (or add to it), write atomically; a read-only data folder loses the memory, not the run."""
    with _LOCK:
        rates = _read_rates()
        old = rates.get(key) if merge and isinstance(rates.get(key), dict) else {}
        rates[key] = {**old, **value}
        try:
            atomic_write_json(_rates_path(), rates, indent=1)
        except OSError as exc:
            log.warning("Could not remember %s: %s", what, exc)


def mean_tokens(model, texts: Sequence[str], *, role: str = "document", sample: int = TOKEN_SAMPLE) -> float:
    """Mean tokens per text as encoding sees them (cut at the model's maximum length), from a fixed sample."""
    texts = list(texts)
    if not texts:
        return 0.0
    if len(texts) > sample:
        picks = np.random.default_rng(0).choice(len(texts), sample, replace=False)
        texts = [texts[i] for i in sorted(picks)]
    raw = getattr(model, "inner", model)
    lengths = np.asarray(raw.token_lengths(texts, role=role), dtype=float)
    cap = getattr(raw, "max_seq_length", None)
    return float(np.minimum(lengths, cap).mean() if cap else lengths.mean())


def estimate_encode(model, texts: Sequence[str], *, role: str = "document",
                    queries: Sequence[str] = ()) -> Estimate:
    """What encoding ``texts`` (with ``role``) and ``queries`` (with the query role, as retrieval encodes
    them) will cost with ``model``: the texts not cached, and seconds at the remembered speed."""
    parts = [(part_role, _missing(model, part, part_role)) for part, part_role in ((texts, role), (queries, "query"))]
    seconds: float | None = 0.0
    rate = None
    for part_role, missing in parts:
        if not missing:
            continue
        rate = remembered_rate(model, role=part_role)
        if rate is None or seconds is None:
            seconds = None
            continue
        seconds += len(missing) * mean_tokens(model, missing, role=part_role) / rate.tokens_per_s
    return Estimate(model.name, len(texts) + len(queries), sum(len(m) for _, m in parts), seconds, rate,
                    uploaded=is_precomputed(model))


def _missing(model, texts: Sequence[str], role: str) -> list[str]:
    return model.missing(texts, role=role) if hasattr(model, "missing") else list(dict.fromkeys(texts))


def learn_from_run(model, texts: Sequence[str], seconds: float, *, source: str, role: str = "document") -> Rate | None:
    """After an encode of ``texts`` that took ``seconds``: remember the speed, counting only what was
    really encoded (``last_stats`` of a cached model; every text otherwise)."""
    if is_precomputed(model) or not callable(getattr(model, "cache_key", None)):
        return None  # nothing was encoded, or nothing to remember the speed by
    stats = getattr(model, "last_stats", None)
    encoded = stats.encoded if stats is not None else len(texts)
    if encoded == 0:
        return None
    # The encoded texts are taken as typical of the corpus: their tokens are estimated from its sample.
    return remember_rate(model, tokens=encoded * mean_tokens(model, texts, role=role), seconds=seconds,
                         source=source, role=role)
