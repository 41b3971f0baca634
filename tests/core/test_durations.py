"""One rule for showing a duration."""

import math

import pytest

from embedlab.durations import format_seconds


@pytest.mark.parametrize("seconds, text", [
    (0.0, "0.00 s"), (0.4237, "0.42 s"), (3.456, "3.5 s"), (9.94, "9.9 s"), (9.96, "10 s"), (42.4, "42 s"),
    (59.4, "59 s"), (59.6, "1 min 00 s"), (125.2, "2 min 05 s"), (3599.4, "59 min 59 s"), (3720, "1 h 02 min"),
    (None, "—"), (math.nan, "—"),
])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


def test_a_negative_duration_is_a_bug_not_a_display():
    with pytest.raises(ValueError, match="negative"):
        format_seconds(-1.0)
