"""Durations as written in plans."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollout.plan.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("0.5s", timedelta(milliseconds=500)),
        ("250ms", timedelta(milliseconds=250)),
        ("1h0m5s", timedelta(hours=1, seconds=5)),
        ("0s", timedelta(0)),
    ],
)
def test_durations_people_write_are_read(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "5", "m", "5x", "5s5m", "1m1m", "-5s", "5 m", "1.s", "five minutes"]
)
def test_non_durations_are_refused_with_examples(text: str) -> None:
    with pytest.raises(DurationError, match=r"write it like 90s, 5m, 1h30m or 0\.5s"):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10 * 24 * 3600 * 1000))
def test_formatting_then_parsing_gives_the_same_duration(milliseconds: int) -> None:
    duration = timedelta(milliseconds=milliseconds)
    assert parse_duration(format_duration(duration)) == duration
