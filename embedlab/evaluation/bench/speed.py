"""What a model costs on this machine: encoding speed on a fixed sample of a task's own texts, the
process's peak memory while encoding, and the model's size.

The benchmark's scores come from caches (results and embeddings), so the task's own run says nothing
about speed. ``measure_speed`` encodes a fixed sample of the task's texts with the embedding cache
bypassed (the inner model of a ``CachedEmbedder``), in chunks, until the sample is done or a time
budget is spent, so it costs a few seconds per model whatever the model's speed. The result is
stored with the task's result, so a cached result keeps the speed measured when it was computed.
"""

from __future__ import annotations

import hashlib
import math
import resource
import sys
import threading
import time
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

SPEED_TEXTS = 128  # the fixed sample: at most this many distinct texts of a task
SPEED_SECONDS = 2.0  # per sample: encoding stops after the chunk that crosses this
FIRST_CHUNK = 4  # texts in the first timed call; later calls are sized from the rate so far, so a slow
SPEED_CHUNK = 64  # model stops near the budget, up to this many (fewer calls: less per-call overhead)
WARMUP_TEXTS = 2  # encoded first and not timed: first calls pay for thread pools and allocations
MEMORY_METHODS = ("psutil", "getrusage")
"""How ``peak_rss_mb`` was taken: the process's RSS sampled every 5 ms during the timed encode
(psutil, when installed), or the process's lifetime high-water mark (``resource.getrusage``)."""
SPEED_METHOD = (
    f"texts/s, tokens/s: encoding a fixed sample of each task's own texts (at most {SPEED_TEXTS} distinct "
    f"texts, picked by hash) on this machine with the embedding cache bypassed, {FIRST_CHUNK} to {SPEED_CHUNK} "
    f"texts per call until the sample is done or {SPEED_SECONDS:g} s are spent, after {WARMUP_TEXTS} untimed warm-up texts; "
    "the row shows the geometric mean over the tasks. Tokens are the model's tokenizer counts, truncated to "
    "its maximum length (none for a model without token_lengths). peak MB: the process's RSS high-water mark "
    "during the timed encode, sampled every 5 ms with psutil (resource.getrusage's lifetime maximum without "
    "psutil); it includes everything else the process holds. params M: parameter count; weights MB: the "
    "weights' bytes in memory.")


@dataclass(frozen=True)
class Speed:
    """One timed encode: ``texts`` texts (``tokens`` tokens after truncation, None when the model
    has no tokenizer to count with) in ``seconds``, with the process's peak RSS meanwhile."""

    texts: int
    seconds: float
    tokens: int | None
    role: str
    peak_rss_mb: float | None
    memory: str  # one of MEMORY_METHODS

    @property
    def texts_per_s(self) -> float | None:
        return self.texts / self.seconds if self.seconds > 0 else None

    @property
    def tokens_per_s(self) -> float | None:
        return self.tokens / self.seconds if self.tokens is not None and self.seconds > 0 else None

    def to_dict(self) -> dict:
        return {**asdict(self), "texts_per_s": self.texts_per_s, "tokens_per_s": self.tokens_per_s}

    @classmethod
    def from_dict(cls, record) -> Speed | None:
        """A stored speed, or None when the record has none or is not one (older results)."""
        try:
            return cls(texts=int(record["texts"]), seconds=float(record["seconds"]),
                       tokens=None if record.get("tokens") is None else int(record["tokens"]),
                       role=str(record["role"]), peak_rss_mb=_float_or_none(record.get("peak_rss_mb")),
                       memory=str(record["memory"]))
        except (TypeError, KeyError, ValueError, AttributeError):
            return None


def speed_sample(texts: Sequence[str], n: int = SPEED_TEXTS) -> tuple[str, ...]:
    """At most ``n`` distinct texts, picked by their SHA-256 (not by position), so tasks over the
    same texts in another order (the three BBC tasks) measure the same sample."""
    unique = set(texts)
    return tuple(sorted(unique, key=lambda t: hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest())[:n])


def encoder_of(model):
    """The model that really encodes: the inner model of a ``CachedEmbedder``."""
    from embedlab.cache import CachedEmbedder

    return model.inner if isinstance(model, CachedEmbedder) else model


def measure_speed(model, texts: Sequence[str], *, role: str = "document", seconds: float = SPEED_SECONDS,
                  chunk: int = SPEED_CHUNK, clock: Callable[[], float] = time.perf_counter) -> Speed | None:
    """Time ``model`` encoding ``texts`` (the embedding cache bypassed) until the texts are done or
    ``seconds`` are spent; None for no texts. The first call takes ``FIRST_CHUNK`` texts, each next
    one as many as the rate so far fits in the time left (1 to ``chunk``), so the budget is
    overshot by about one text, not one chunk, on a slow model."""
    raw = encoder_of(model)
    texts = list(texts)
    if not texts:
        return None
    raw.encode(texts[:WARMUP_TEXTS], role=role)
    done, elapsed, size = 0, 0.0, min(FIRST_CHUNK, chunk)
    with PeakRss() as memory:
        while done < len(texts) and elapsed < seconds:
            part = texts[done:done + size]
            start = clock()
            raw.encode(part, role=role)
            elapsed += clock() - start
            done += len(part)
            rate = done / elapsed if elapsed > 0 else math.inf
            size = int(max(1, min(chunk, rate * (seconds - elapsed))))
    return Speed(texts=done, seconds=elapsed, tokens=token_count(raw, texts[:done], role), role=role,
                 peak_rss_mb=memory.peak_mb, memory=memory.method)


def token_count(model, texts: list[str], role: str) -> int | None:
    """Tokens the model encodes for ``texts``: its ``token_lengths`` capped at its maximum length
    (what it truncates to); None when the model cannot count (no ``token_lengths``)."""
    lengths_of = getattr(model, "token_lengths", None)
    if not callable(lengths_of):
        return None
    lengths = [int(n) for n in lengths_of(texts, role=role)]
    cap = getattr(model, "max_seq_length", None)
    return sum(min(n, cap) if cap else n for n in lengths)


def model_size(model) -> dict:
    """``parameters`` (count) and ``weight_mb`` (bytes of the weights in memory), None where the
    model does not say. A model type not listed here can give ``weight_bytes`` itself."""
    raw = encoder_of(model)
    parameters = getattr(raw, "parameters", None)
    nbytes = getattr(raw, "weight_bytes", None)
    if nbytes is None:
        nbytes = _known_weight_bytes(raw)
    return {"parameters": int(parameters) if isinstance(parameters, int) else None,
            "weight_mb": nbytes / 2**20 if nbytes is not None else None}


def _known_weight_bytes(raw) -> int | None:
    from embedlab.models.static import StaticEmbedder
    from embedlab.models.transformer import TransformerEmbedder

    if isinstance(raw, TransformerEmbedder):
        modules = [m for m in (raw.model, raw.head) if m is not None]
        return sum(t.numel() * t.element_size() for m in modules for t in [*m.parameters(), *m.buffers()])
    if isinstance(raw, StaticEmbedder):
        return int(raw.inference.embedding.nbytes)
    return None


class SpeedMeter:
    """Speeds of one loaded model, each distinct (role, sample) measured once per run."""

    def __init__(self, model, *, seconds: float = SPEED_SECONDS) -> None:
        self.model = model
        self.seconds = seconds
        self._measured: dict[tuple[str, tuple[str, ...]], Speed | None] = {}

    def measure(self, texts: tuple[str, ...], role: str) -> Speed | None:
        key = (role, texts)
        if key not in self._measured:
            self._measured[key] = measure_speed(self.model, texts, role=role, seconds=self.seconds)
        return self._measured[key]


class PeakRss:
    """The process's peak resident memory (MB) during a ``with`` block."""

    def __init__(self, every: float = 0.005) -> None:
        self.every = every
        self.peak_mb: float | None = None
        self.method = "psutil"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process = None

    def __enter__(self) -> PeakRss:
        try:
            import psutil
        except ImportError:
            self.method = "getrusage"
            return self
        self._process = psutil.Process()
        self.peak_mb = self._process.memory_info().rss / 2**20
        self._thread = threading.Thread(target=self._sample, name="peak-rss", daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self.peak_mb = max(self.peak_mb, self._process.memory_info().rss / 2**20)

    def __exit__(self, *exc) -> None:
        if self._thread is None:
            # ru_maxrss: kilobytes on Linux, bytes on macOS; the whole process's high-water mark
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.peak_mb = peak / 2**20 if sys.platform == "darwin" else peak / 2**10
            return
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._process.memory_info().rss / 2**20)  # a block shorter than one tick


def _float_or_none(value) -> float | None:
    return None if value is None else float(value)
