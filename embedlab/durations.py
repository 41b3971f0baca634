"""How a duration reads on screen and in the CLI: one rule everywhere, so no page shows 12.3456789 s."""

from __future__ import annotations

import math


def format_seconds(seconds: float | None) -> str:
    """``0.42 s``, ``3.4 s``, ``42 s``, ``2 min 05 s``, ``1 h 02 min``; ``—`` for None or NaN.

    Two significant digits below ten seconds (short steps differ there), whole seconds up to a minute,
    then minutes and seconds, and above an hour hours and minutes: the precision a reader can use.
    """
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "—"
    if seconds < 0:
        raise ValueError(f"A duration cannot be negative: {seconds}.")
    if seconds < 1:
        return f"{seconds:.2f} s"
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"
