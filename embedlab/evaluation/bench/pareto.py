"""The Pareto front of quality against speed: the models no other model beats on both."""

from __future__ import annotations

import math
from typing import Sequence


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point dominates, in order of rising x (ties: input order).

    Both coordinates are better when higher (x = texts per second, y = average score). A point is
    dominated when another is at least as good on both and strictly better on one, so equal points
    are all on the front. Points with a NaN or None coordinate are not compared and never on it.
    """
    usable = [i for i, (x, y) in enumerate(points) if _finite(x) and _finite(y)]
    front = []
    for i in usable:
        xi, yi = points[i]
        dominated = any(points[j][0] >= xi and points[j][1] >= yi and (points[j][0] > xi or points[j][1] > yi)
                        for j in usable if j != i)
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: (points[i][0], i))


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)
