"""--json output is always valid JSON: numpy values converted, NaN and infinities written as null."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from embedlab.jsonio import dumps, plain


def test_nan_and_inf_become_null_and_numpy_becomes_python():
    text = dumps({"a": float("nan"), "b": [np.float32(1.5), np.inf, -math.inf], "c": np.arange(2),
                  3: Path("/x"), "d": (np.int64(4),)})
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"a": None, "b": [1.5, None, None], "c": [0, 1], "3": "/x", "d": [4]}


def test_plain_leaves_finite_values_alone():
    assert plain({"x": 0.25, "y": "text", "z": None, "w": True}) == {"x": 0.25, "y": "text", "z": None, "w": True}


def test_strict_parsers_accept_it():
    text = dumps([float("nan")])

    def refuse(name):
        raise ValueError(name)

    assert json.loads(text, parse_constant=refuse) == [None]
    with pytest.raises(ValueError):
        json.loads(json.dumps([float("nan")]), parse_constant=refuse)  # what json.dumps alone would write
