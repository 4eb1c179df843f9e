"""Every strategy as a table: configuration in, steps, time of reaching 100% and duration out."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from strategies import (
    Bake,
    Pause,
    Shift,
    Step,
    Validate,
    all_at_once,
    blue_green,
    canary,
    cloudformation,
    codedeploy,
    linear,
    timeline,
    total_duration,
    weights,
)
from strategies import steps as explicit
from strategies.steps import ExplicitStep

MINUTE = timedelta(minutes=1)
ZERO = timedelta(0)
BAKE = 2 * MINUTE  # unlike every interval below, so a misplaced final bake shows


def reaches_100_at(steps: tuple[Step, ...]) -> timedelta:
    """When the step to 100% begins."""
    return next(t.offset for t in timeline(steps) if t.step == Shift(Decimal(100)))


def increments(percents: tuple[int | str, ...], interval: timedelta) -> tuple[Step, ...]:
    """Shift to each percent and bake `interval` after it, then shift 100 and the final bake."""
    moves = tuple(step for p in percents for step in (Shift(Decimal(p)), Bake(interval)))
    return (*moves, Shift(Decimal(100)), Bake(BAKE))


# -- all at once, blue/green ---------------------------------------------------------------


def test_all_at_once_is_one_move_then_the_bake() -> None:
    steps = all_at_once.steps(bake=BAKE)
    assert steps == (Shift(Decimal(100)), Bake(BAKE))
    assert reaches_100_at(steps) == ZERO
    assert total_duration(steps) == BAKE


def test_all_at_once_keeps_a_zero_final_bake() -> None:
    assert all_at_once.steps(bake=ZERO) == (Shift(Decimal(100)), Bake(ZERO))


def test_blue_green_validates_at_zero_before_moving_everything() -> None:
    steps = blue_green.steps(bake=BAKE)
    assert steps == (Validate(), Shift(Decimal(100)), Bake(BAKE))
    assert reaches_100_at(steps) == ZERO
    assert total_duration(steps) == BAKE


# -- canary ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "interval"),
    [("10", 5 * MINUTE), ("0.01", MINUTE), ("99.99", timedelta(seconds=1)), ("33.5", MINUTE)],
)
def test_canary_moves_its_share_then_the_rest_after_the_interval(
    percent: str, interval: timedelta
) -> None:
    steps = canary.steps(percent=Decimal(percent), interval=interval, bake=BAKE)
    assert steps == increments((percent,), interval)
    assert reaches_100_at(steps) == interval
    assert total_duration(steps) == interval + BAKE


# -- linear ----------------------------------------------------------------------------------


def test_linear_10_every_minute_reaches_100_at_nine_minutes() -> None:
    steps = linear.steps(percent=Decimal(10), interval=MINUTE, bake=BAKE)
    assert steps == increments((10, 20, 30, 40, 50, 60, 70, 80, 90), MINUTE)
    assert reaches_100_at(steps) == 9 * MINUTE
    assert total_duration(steps) == 9 * MINUTE + BAKE


@pytest.mark.parametrize(
    ("percent", "expected"),
    [
        ("33.33", ("33.33", "66.66", "99.99", "100")),
        ("40", ("40", "80", "100")),
        ("50", ("50", "100")),
        ("25", ("25", "50", "75", "100")),
        ("99.99", ("99.99", "100")),
        ("30", ("30", "60", "90", "100")),
    ],
)
def test_linear_caps_the_last_increment_at_100(percent: str, expected: tuple[str, ...]) -> None:
    steps = linear.steps(percent=Decimal(percent), interval=MINUTE, bake=BAKE)
    assert weights(steps) == tuple(Decimal(w) for w in expected)
    assert reaches_100_at(steps) == (len(expected) - 1) * MINUTE
    assert total_duration(steps) == (len(expected) - 1) * MINUTE + BAKE


def test_linear_with_the_smallest_percent_takes_9999_increments() -> None:
    steps = linear.steps(percent=Decimal("0.01"), interval=timedelta(seconds=1), bake=ZERO)
    assert len(weights(steps)) == 10_000
    assert reaches_100_at(steps) == timedelta(seconds=9_999)


def test_linear_spells_weights_plainly_however_the_percent_was_spelled() -> None:
    steps = linear.steps(percent=Decimal("2.50E+1"), interval=MINUTE, bake=ZERO)
    assert [str(w) for w in weights(steps)] == ["25", "50", "75", "100"]


# -- explicit steps --------------------------------------------------------------------------


def test_explicit_steps_shift_pause_and_validate_as_listed() -> None:
    items: list[ExplicitStep | Validate] = [
        Validate(),
        ExplicitStep(Decimal(5), pause=2 * MINUTE),
        ExplicitStep(Decimal(50), manual=True),
        ExplicitStep(Decimal(100)),
    ]
    steps = explicit.steps(items, bake=MINUTE)
    assert steps == (
        Validate(),
        Shift(Decimal(5)),
        Bake(2 * MINUTE),
        Shift(Decimal(50)),
        Pause(),
        Shift(Decimal(100)),
        Bake(MINUTE),
    )
    assert total_duration(steps) == 3 * MINUTE
    timed = timeline(steps)
    assert reaches_100_at(steps) == 2 * MINUTE
    assert timed[-2].after_pause
    assert not timed[3].after_pause


def test_explicit_steps_without_pauses_move_one_after_another() -> None:
    items = [ExplicitStep(Decimal(1)), ExplicitStep(Decimal(50)), ExplicitStep(Decimal(100))]
    steps = explicit.steps(items, bake=BAKE)
    assert steps == (Shift(Decimal(1)), Shift(Decimal(50)), Shift(Decimal(100)), Bake(BAKE))
    assert reaches_100_at(steps) == ZERO


def test_explicit_steps_keep_the_last_steps_own_pause_before_the_final_bake() -> None:
    steps = explicit.steps([ExplicitStep(Decimal(100), pause=5 * MINUTE)], bake=BAKE)
    assert steps == (Shift(Decimal(100)), Bake(5 * MINUTE), Bake(BAKE))
    assert total_duration(steps) == 5 * MINUTE + BAKE


def test_explicit_steps_can_wait_for_a_promote_at_100() -> None:
    steps = explicit.steps([ExplicitStep(Decimal(100), manual=True)], bake=ZERO)
    assert steps == (Shift(Decimal(100)), Pause(), Bake(ZERO))
    assert timeline(steps)[-1].after_pause


def test_explicit_steps_allow_several_validations_before_traffic_moves() -> None:
    steps = explicit.steps([Validate(), Validate(), ExplicitStep(Decimal(100))], bake=ZERO)
    assert steps == (Validate(), Validate(), Shift(Decimal(100)), Bake(ZERO))


def test_explicit_steps_spell_weights_plainly() -> None:
    items = [ExplicitStep(Decimal("10.50")), ExplicitStep(Decimal("100.00"))]
    assert [str(w) for w in weights(explicit.steps(items, bake=ZERO))] == ["10.5", "100"]


# -- CodeDeploy ------------------------------------------------------------------------------

TEN_TO_NINETY = (10, 20, 30, 40, 50, 60, 70, 80, 90)
CODEDEPLOY: dict[str, tuple[Step, ...]] = {
    "AllAtOnce": (Shift(Decimal(100)), Bake(BAKE)),
    "Canary10Percent5Minutes": increments((10,), 5 * MINUTE),
    "Canary10Percent10Minutes": increments((10,), 10 * MINUTE),
    "Canary10Percent15Minutes": increments((10,), 15 * MINUTE),
    "Canary10Percent30Minutes": increments((10,), 30 * MINUTE),
    "Linear10PercentEvery1Minute": increments(TEN_TO_NINETY, MINUTE),
    "Linear10PercentEvery2Minutes": increments(TEN_TO_NINETY, 2 * MINUTE),
    "Linear10PercentEvery3Minutes": increments(TEN_TO_NINETY, 3 * MINUTE),
    "Linear10PercentEvery10Minutes": increments(TEN_TO_NINETY, 10 * MINUTE),
}
# AWS's documented time from the first shift to 100%, and the weights on the way.
AWS_TIMING: dict[str, tuple[timedelta, tuple[int, ...]]] = {
    "AllAtOnce": (ZERO, (100,)),
    "Canary10Percent5Minutes": (5 * MINUTE, (10, 100)),
    "Canary10Percent10Minutes": (10 * MINUTE, (10, 100)),
    "Canary10Percent15Minutes": (15 * MINUTE, (10, 100)),
    "Canary10Percent30Minutes": (30 * MINUTE, (10, 100)),
    "Linear10PercentEvery1Minute": (9 * MINUTE, (*TEN_TO_NINETY, 100)),
    "Linear10PercentEvery2Minutes": (18 * MINUTE, (*TEN_TO_NINETY, 100)),
    "Linear10PercentEvery3Minutes": (27 * MINUTE, (*TEN_TO_NINETY, 100)),
    "Linear10PercentEvery10Minutes": (90 * MINUTE, (*TEN_TO_NINETY, 100)),
}
SPELLINGS = ["", "Lambda", "CodeDeployDefault.Lambda"]


@pytest.mark.parametrize("short", list(AWS_TIMING))
@pytest.mark.parametrize("prefix", SPELLINGS)
def test_codedeploy_predefined_config_reaches_100_when_aws_does(prefix: str, short: str) -> None:
    at, expected = AWS_TIMING[short]
    steps = codedeploy.steps(prefix + short, bake=BAKE)
    assert reaches_100_at(steps) == at
    assert weights(steps) == tuple(Decimal(w) for w in expected)
    assert total_duration(steps) == at + BAKE
    assert steps == CODEDEPLOY[short]


@pytest.mark.parametrize("short", list(AWS_TIMING))
def test_codedeploy_names_list_all_three_spellings_of_each_config(short: str) -> None:
    for prefix in SPELLINGS:
        assert prefix + short in codedeploy.names()
        assert codedeploy.is_predefined(prefix + short)


def test_codedeploy_names_are_the_nine_configs_in_three_spellings() -> None:
    assert len(codedeploy.names()) == len(set(codedeploy.names())) == 27


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Lambda",
        "CodeDeployDefault.Lambda",
        "canary10percent5minutes",
        "CodeDeployDefault.AllAtOnce",
        "CodeDeployDefault.LambdaLambdaAllAtOnce",
        "Canary10Percent5Minute",
        "CodeDeployDefault.OneAtATime",
    ],
)
def test_codedeploy_knows_only_its_predefined_names(name: str) -> None:
    assert not codedeploy.is_predefined(name)


# -- CloudFormation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "percentage", "interval", "at", "expected"),
    [
        ("LINEAR", 20, 2, 8 * MINUTE, (20, 40, 60, 80, 100)),
        ("LINEAR", 10, 1, 9 * MINUTE, (*TEN_TO_NINETY, 100)),
        ("LINEAR", 33, 5, 15 * MINUTE, (33, 66, 99, 100)),
        ("LINEAR", 50, 3, 3 * MINUTE, (50, 100)),
        ("LINEAR", 99, 1, MINUTE, (99, 100)),
        ("LINEAR", 1, 1, 99 * MINUTE, tuple(range(1, 101))),
        ("CANARY", 10, 5, 5 * MINUTE, (10, 100)),
        ("CANARY", 1, 60, 60 * MINUTE, (1, 100)),
        ("CANARY", 99, 1, MINUTE, (99, 100)),
        ("ALL_AT_ONCE", None, None, ZERO, (100,)),
    ],
)
def test_cloudformation_deployment_preference_has_aws_timing(
    kind: str,
    percentage: int | None,
    interval: int | None,
    at: timedelta,
    expected: tuple[int, ...],
) -> None:
    steps = cloudformation.steps(type=kind, percentage=percentage, interval=interval, bake=BAKE)
    assert reaches_100_at(steps) == at
    assert weights(steps) == tuple(Decimal(w) for w in expected)
    assert total_duration(steps) == at + BAKE
    assert steps[-2:] == (Shift(Decimal(100)), Bake(BAKE))


@pytest.mark.parametrize(
    ("kind", "percentage", "interval", "codedeploy_name"),
    [
        ("LINEAR", 10, 1, "Linear10PercentEvery1Minute"),
        ("LINEAR", 10, 10, "Linear10PercentEvery10Minutes"),
        ("CANARY", 10, 5, "Canary10Percent5Minutes"),
        ("CANARY", 10, 30, "Canary10Percent30Minutes"),
        ("ALL_AT_ONCE", None, None, "AllAtOnce"),
    ],
)
def test_cloudformation_and_codedeploy_agree_on_the_same_shape(
    kind: str, percentage: int | None, interval: int | None, codedeploy_name: str
) -> None:
    from_template = cloudformation.steps(
        type=kind, percentage=percentage, interval=interval, bake=BAKE
    )
    assert from_template == codedeploy.steps(codedeploy_name, bake=BAKE)
