"""One way to round and say a duration, so the CLI, the page and the saved record agree."""

from __future__ import annotations


def round_seconds(seconds: float) -> float:
    """Tenths below ten seconds (a tiny test run is not "0 s"), whole seconds above."""
    return round(seconds, 1) if seconds < 10 else float(round(seconds))


def duration_text(seconds: float) -> str:
    """``4.2 s``, ``48 s``, ``3 min 12 s``, ``1 h 05 min``, from the rounded number."""
    s = round_seconds(seconds)
    if s < 60:
        return f"{s:g} s"
    whole = int(s)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
