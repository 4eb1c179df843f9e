"""Strategies as tables: configuration in, steps and timing out; and properties over all of them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies import (
    Bake,
    Pause,
    Shift,
    Step,
    StrategyError,
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

MINUTE = timedelta(minutes=1)
ZERO = timedelta(0)


def reaches_100_at(steps: tuple[Step, ...]) -> timedelta:
    """When the step to 100% begins."""
    return next(t.offset for t in timeline(steps) if t.step == Shift(Decimal(100)))


def test_all_at_once_is_one_move_then_the_bake() -> None:
    assert all_at_once.steps(bake=MINUTE) == (Shift(Decimal(100)), Bake(MINUTE))


def test_blue_green_validates_at_zero_before_moving_everything() -> None:
    assert blue_green.steps(bake=ZERO) == (Validate(), Shift(Decimal(100)), Bake(ZERO))


def test_canary_moves_its_share_then_the_rest_after_the_interval() -> None:
    steps = canary.steps(percent=Decimal(10), interval=5 * MINUTE, bake=2 * MINUTE)
    assert steps == (
        Shift(Decimal(10)),
        Bake(5 * MINUTE),
        Shift(Decimal(100)),
        Bake(2 * MINUTE),
    )
    assert total_duration(steps) == 7 * MINUTE


def test_linear_caps_the_last_increment_at_100() -> None:
    steps = linear.steps(percent=Decimal("33.33"), interval=MINUTE, bake=ZERO)
    assert weights(steps) == (Decimal("33.33"), Decimal("66.66"), Decimal("99.99"), Decimal(100))
    assert weights(linear.steps(percent=Decimal(40), interval=MINUTE, bake=ZERO)) == (40, 80, 100)


def test_linear_10_every_minute_reaches_100_at_nine_minutes() -> None:
    steps = codedeploy.steps("Linear10PercentEvery1Minute", bake=ZERO)
    assert reaches_100_at(steps) == 9 * MINUTE
    assert weights(steps) == tuple(Decimal(10 * n) for n in range(1, 11))


CODEDEPLOY = {
    "AllAtOnce": (ZERO, (100,)),
    "Canary10Percent5Minutes": (5 * MINUTE, (10, 100)),
    "Canary10Percent10Minutes": (10 * MINUTE, (10, 100)),
    "Canary10Percent15Minutes": (15 * MINUTE, (10, 100)),
    "Canary10Percent30Minutes": (30 * MINUTE, (10, 100)),
    "Linear10PercentEvery1Minute": (9 * MINUTE, tuple(range(10, 101, 10))),
    "Linear10PercentEvery2Minutes": (18 * MINUTE, tuple(range(10, 101, 10))),
    "Linear10PercentEvery3Minutes": (27 * MINUTE, tuple(range(10, 101, 10))),
    "Linear10PercentEvery10Minutes": (90 * MINUTE, tuple(range(10, 101, 10))),
}


@pytest.mark.parametrize("short", list(CODEDEPLOY))
@pytest.mark.parametrize("prefix", ["", "Lambda", "CodeDeployDefault.Lambda"])
def test_codedeploy_predefined_configs_have_aws_timing(prefix: str, short: str) -> None:
    at, expected = CODEDEPLOY[short]
    steps = codedeploy.steps(prefix + short, bake=ZERO)
    assert reaches_100_at(steps) == at
    assert weights(steps) == tuple(Decimal(w) for w in expected)
    assert codedeploy.is_predefined(prefix + short)


def test_unknown_codedeploy_name_suggests_the_closest() -> None:
    with pytest.raises(StrategyError, match="did you mean 'Canary10Percent5Minutes'"):
        codedeploy.steps("Canary10Percent5Minute", bake=ZERO)


@pytest.mark.parametrize(
    ("kind", "percentage", "interval", "at", "expected"),
    [
        ("LINEAR", 20, 2, 8 * MINUTE, (20, 40, 60, 80, 100)),
        ("CANARY", 10, 5, 5 * MINUTE, (10, 100)),
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
    steps = cloudformation.steps(type=kind, percentage=percentage, interval=interval, bake=ZERO)
    assert reaches_100_at(steps) == at
    assert weights(steps) == tuple(Decimal(w) for w in expected)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"type": "LINEAR", "percentage": 0, "interval": 2}, "from 1 to 99"),
        ({"type": "LINEAR", "percentage": 100, "interval": 2}, "from 1 to 99"),
        ({"type": "LINEAR", "percentage": 10, "interval": None}, "needs interval"),
        ({"type": "CANARY", "percentage": 10, "interval": 0}, "at least 1"),
        ({"type": "ALL_AT_ONCE", "percentage": 10, "interval": None}, "neither"),
        ({"type": "BLUE", "percentage": None, "interval": None}, "must be one of"),
    ],
)
def test_impossible_cloudformation_shapes_are_refused(
    arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(StrategyError, match=message):
        cloudformation.steps(**arguments, bake=ZERO)  # type: ignore[arg-type]


@pytest.mark.parametrize("percent", ["0", "100", "120", "-5", "10.555"])
@pytest.mark.parametrize("module", [canary, linear])
def test_impossible_percentages_are_refused(module: object, percent: str) -> None:
    with pytest.raises(StrategyError):
        module.steps(percent=Decimal(percent), interval=MINUTE, bake=ZERO)  # type: ignore[attr-defined]


def test_zero_interval_is_refused() -> None:
    with pytest.raises(StrategyError, match="interval must be above zero"):
        linear.steps(percent=Decimal(10), interval=ZERO, bake=ZERO)


def test_explicit_steps_with_manual_pause_and_validate() -> None:
    items = [
        Validate(),
        explicit.ExplicitStep(Decimal(5), pause=2 * MINUTE),
        explicit.ExplicitStep(Decimal(50), manual=True),
        explicit.ExplicitStep(Decimal(100)),
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
    assert timeline(steps)[-2].after_pause


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "at least one"),
        ([explicit.ExplicitStep(Decimal(50)), explicit.ExplicitStep(Decimal(20))], "must increase"),
        ([explicit.ExplicitStep(Decimal(10))], "end at weight 100"),
        ([explicit.ExplicitStep(Decimal(10), pause=MINUTE, manual=True)], "either manual or"),
        (
            [explicit.ExplicitStep(Decimal(100)), explicit.ExplicitStep(Decimal(100))],
            "nothing can follow",
        ),
        (
            [explicit.ExplicitStep(Decimal(10)), Validate(), explicit.ExplicitStep(Decimal(100))],
            "only before",
        ),
    ],
)
def test_impossible_explicit_steps_are_refused(items: list[object], message: str) -> None:
    with pytest.raises(StrategyError, match=message):
        explicit.steps(items, bake=ZERO)  # type: ignore[arg-type]


# -- properties over every strategy --------------------------------------------------------

shares = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99.99"), places=2)
durations = st.integers(min_value=0, max_value=3600).map(lambda s: timedelta(seconds=s))
intervals = st.integers(min_value=1, max_value=3600).map(lambda s: timedelta(seconds=s))


@st.composite
def explicit_lists(draw: st.DrawFn) -> list[explicit.ExplicitStep | Validate]:
    cuts = sorted(set(draw(st.lists(shares, max_size=6))))
    items: list[explicit.ExplicitStep | Validate] = [Validate()] if draw(st.booleans()) else []
    for weight in [*cuts, Decimal(100)]:
        kind = draw(st.sampled_from(["none", "manual", "bake"]))
        items.append(
            explicit.ExplicitStep(
                weight,
                pause=draw(durations) if kind == "bake" else None,
                manual=kind == "manual",
            )
        )
    return items


any_strategy = st.one_of(
    st.builds(lambda b: all_at_once.steps(bake=b), durations),
    st.builds(lambda b: blue_green.steps(bake=b), durations),
    st.builds(
        lambda p, i, b: canary.steps(percent=p, interval=i, bake=b), shares, intervals, durations
    ),
    st.builds(
        lambda p, i, b: linear.steps(percent=p, interval=i, bake=b), shares, intervals, durations
    ),
    st.builds(lambda items, b: explicit.steps(items, bake=b), explicit_lists(), durations),
    st.builds(
        lambda n, b: codedeploy.steps(n, bake=b), st.sampled_from(codedeploy.names()), durations
    ),
    st.builds(
        lambda p, i, k, b: cloudformation.steps(type=k, percentage=p, interval=i, bake=b),
        st.integers(1, 99),
        st.integers(1, 60),
        st.sampled_from(["LINEAR", "CANARY"]),
        durations,
    ),
)


@given(any_strategy)
def test_weights_never_decrease_stay_in_range_and_end_at_100(steps: tuple[Step, ...]) -> None:
    shifted = weights(steps)
    assert list(shifted) == sorted(shifted)
    assert all(Decimal(0) < w <= 100 for w in shifted)
    assert shifted[-1] == 100
    assert isinstance(steps[-1], Bake)


@given(any_strategy)
def test_durations_are_never_negative_and_total_is_the_sum_of_bakes(
    steps: tuple[Step, ...],
) -> None:
    bakes = [s.duration for s in steps if isinstance(s, Bake)]
    assert all(d >= ZERO for d in bakes)
    assert total_duration(steps) == sum(bakes, ZERO)


@given(any_strategy)
def test_timeline_never_goes_back_and_100_comes_before_the_final_bake(
    steps: tuple[Step, ...],
) -> None:
    timed = timeline(steps)
    offsets = [t.offset for t in timed]
    assert offsets == sorted(offsets)
    final_bake = steps[-1]
    assert isinstance(final_bake, Bake)
    last_shift = max(i for i, s in enumerate(steps) if isinstance(s, Shift))
    after = sum((s.duration for s in steps[last_shift:] if isinstance(s, Bake)), ZERO)
    assert timed[last_shift].offset == total_duration(steps) - after
