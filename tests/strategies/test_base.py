"""The shared arithmetic: timelines, durations, weights and the weight check."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from strategies import (
    Bake,
    Pause,
    Shift,
    Step,
    StrategyError,
    TimedStep,
    Validate,
    timeline,
    total_duration,
    weights,
)
from strategies.base import check_weight

MINUTE = timedelta(minutes=1)
ZERO = timedelta(0)


def test_timeline_counts_only_bakes_and_starts_each_step_when_the_previous_bake_ends() -> None:
    steps: list[Step] = [
        Validate(),
        Shift(Decimal(10)),
        Bake(5 * MINUTE),
        Shift(Decimal(100)),
        Bake(2 * MINUTE),
    ]
    assert timeline(steps) == (
        TimedStep(ZERO, Validate(), after_pause=False),
        TimedStep(ZERO, Shift(Decimal(10)), after_pause=False),
        TimedStep(ZERO, Bake(5 * MINUTE), after_pause=False),
        TimedStep(5 * MINUTE, Shift(Decimal(100)), after_pause=False),
        TimedStep(5 * MINUTE, Bake(2 * MINUTE), after_pause=False),
    )


def test_timeline_marks_the_steps_after_a_pause_and_gives_the_pause_no_time() -> None:
    steps: list[Step] = [
        Shift(Decimal(50)),
        Bake(MINUTE),
        Pause(),
        Shift(Decimal(100)),
        Bake(MINUTE),
    ]
    timed = timeline(steps)
    assert [t.offset for t in timed] == [ZERO, ZERO, MINUTE, MINUTE, MINUTE]
    assert [t.after_pause for t in timed] == [False, False, False, True, True]


def test_total_duration_is_the_sum_of_bakes_and_a_pause_counts_nothing() -> None:
    steps: list[Step] = [Shift(Decimal(5)), Bake(MINUTE), Pause(), Shift(Decimal(100)), Bake(ZERO)]
    assert total_duration(steps) == MINUTE
    assert total_duration([]) == ZERO


def test_weights_are_the_shifts_in_order() -> None:
    steps: list[Step] = [Validate(), Shift(Decimal(5)), Bake(MINUTE), Shift(Decimal(100))]
    assert weights(steps) == (Decimal(5), Decimal(100))
    assert weights([Validate(), Pause()]) == ()


@pytest.mark.parametrize(
    ("given", "plain"),
    [
        ("0.01", "0.01"),
        ("10", "10"),
        ("10.00", "10"),
        ("10.50", "10.5"),
        ("10.500", "10.5"),
        ("1E+1", "10"),
        ("33.33", "33.33"),
        ("100", "100"),
        ("100.00", "100"),
    ],
)
def test_check_weight_accepts_two_decimals_and_returns_the_plainest_spelling(
    given: str, plain: str
) -> None:
    checked = check_weight(Decimal(given))
    assert checked == Decimal(given)
    assert str(checked) == plain


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        ("0", "above 0 and at most 100, not 0"),
        ("-5", "above 0 and at most 100, not -5"),
        ("100.01", "above 0 and at most 100, not 100.01"),
        ("120", "above 0 and at most 100, not 120"),
        ("NaN", "above 0 and at most 100"),
        ("sNaN", "above 0 and at most 100"),
        ("Infinity", "above 0 and at most 100"),
        ("10.555", "at most two decimals, not 10.555"),
        ("0.001", "at most two decimals, not 0.001"),
    ],
)
def test_check_weight_refuses_weights_outside_0_to_100_or_finer_than_a_hundredth(
    weight: str, message: str
) -> None:
    with pytest.raises(StrategyError, match=message):
        check_weight(Decimal(weight))


def test_strategy_error_is_a_value_error_with_a_one_line_message() -> None:
    with pytest.raises(ValueError, match="at most two decimals") as caught:
        check_weight(Decimal("1.234"))
    assert "\n" not in str(caught.value)
