"""One way to round and say a duration, so the CLI, the page and the saved record agree."""

from __future__ import annotations

from embedlab.durations import format_seconds


def round_seconds(seconds: float) -> float:
    """Tenths below ten seconds (a tiny test run is not "0 s"), whole seconds above."""
    return round(seconds, 1) if seconds < 10 else float(round(seconds))


def duration_text(seconds: float) -> str:
    """The rounded number as every screen says a duration (``embedlab.durations.format_seconds``)."""
    return format_seconds(round_seconds(seconds))
