"""Helpers the benchmark scripts share."""

from __future__ import annotations

import re
import time


def best_of(repeats: int, fn) -> float:
    """The fastest of ``repeats`` timed calls of fn(), in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bbc_sentences() -> list[str]:
    """Distinct sentences (over 30 characters) from the bundled BBC News article bodies, in order."""
    from embedlab.bundled import bbc_news

    seen, out = set(), []
    for body in bbc_news()["text"]:
        for s in re.split(r"(?<=[.!?])\s+", body):
            s = s.strip()
            if len(s) > 30 and s not in seen:
                seen.add(s)
                out.append(s)
    return out
