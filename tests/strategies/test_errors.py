"""Configurations no strategy can honour: each refused with a StrategyError that says why."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from decimal import Decimal

import pytest

from strategies import (
    Step,
    StrategyError,
    Validate,
    all_at_once,
    blue_green,
    canary,
    cloudformation,
    codedeploy,
    linear,
)
from strategies import steps as explicit
from strategies.steps import ExplicitStep

MINUTE = timedelta(minutes=1)
ZERO = timedelta(0)
SHARED = [canary, linear]


# -- canary and linear -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "message"),
    [
        ("0", "percent must be above 0 and below 100, not 0"),
        ("100", "percent must be above 0 and below 100, not 100"),
        ("100.00", "percent must be above 0 and below 100, not 100.00"),
        ("120", "percent must be above 0 and below 100, not 120"),
        ("-5", "percent must be above 0 and below 100, not -5"),
        ("NaN", "percent must be above 0 and below 100, not NaN"),
        ("Infinity", "percent must be above 0 and below 100, not Infinity"),
        ("10.555", "percent takes at most two decimals, not 10.555"),
        ("0.001", "percent takes at most two decimals, not 0.001"),
    ],
)
@pytest.mark.parametrize("module", SHARED, ids=["canary", "linear"])
def test_impossible_percentages_are_refused(module: object, percent: str, message: str) -> None:
    name = module.__name__.rsplit(".", 1)[-1]  # type: ignore[attr-defined]
    with pytest.raises(StrategyError, match=f"^{name} {message}$"):
        module.steps(percent=Decimal(percent), interval=MINUTE, bake=ZERO)  # type: ignore[attr-defined]


def test_canary_percent_above_100_names_the_strategy_and_the_value() -> None:
    with pytest.raises(StrategyError) as caught:
        canary.steps(percent=Decimal(120), interval=MINUTE, bake=ZERO)
    assert str(caught.value) == "canary percent must be above 0 and below 100, not 120"


@pytest.mark.parametrize("interval", [ZERO, -MINUTE])
@pytest.mark.parametrize("module", SHARED, ids=["canary", "linear"])
def test_an_interval_that_is_not_above_zero_is_refused(module: object, interval: timedelta) -> None:
    with pytest.raises(StrategyError, match="interval must be above zero"):
        module.steps(percent=Decimal(10), interval=interval, bake=ZERO)  # type: ignore[attr-defined]


BUILDERS: dict[str, Callable[[timedelta], tuple[Step, ...]]] = {
    "all_at_once": lambda bake: all_at_once.steps(bake=bake),
    "blue_green": lambda bake: blue_green.steps(bake=bake),
    "canary": lambda bake: canary.steps(percent=Decimal(10), interval=MINUTE, bake=bake),
    "linear": lambda bake: linear.steps(percent=Decimal(10), interval=MINUTE, bake=bake),
    "steps": lambda bake: explicit.steps([ExplicitStep(Decimal(100))], bake=bake),
    "codedeploy": lambda bake: codedeploy.steps("AllAtOnce", bake=bake),
    "cloudformation": lambda bake: cloudformation.steps(
        type="CANARY", percentage=10, interval=1, bake=bake
    ),
}


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
def test_a_negative_final_bake_is_refused(
    build: Callable[[timedelta], tuple[Step, ...]],
) -> None:
    with pytest.raises(StrategyError, match="the final bake cannot be negative"):
        build(-MINUTE)


# -- explicit steps --------------------------------------------------------------------------


def step(
    weight: str | int, pause: timedelta | None = None, *, manual: bool = False
) -> ExplicitStep:
    return ExplicitStep(Decimal(weight), pause=pause, manual=manual)


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "steps need at least one"),
        ([Validate()], "steps need at least one"),
        ([step(50), step(20), step(100)], "^step 2: weights must increase, but 20 follows 50$"),
        ([step(50), step(50), step(100)], "^step 2: weights must increase"),
        ([Validate(), step(50), step(20)], "^step 3: weights must increase"),
        ([step(10)], "^step 1: steps must end at weight 100, but the last weight is 10$"),
        ([step(10), step(50), Validate()], "^step 3: validate runs only before traffic moves$"),
        ([step(10), step("99.99")], "^step 2: steps must end at weight 100"),
        ([step(10, MINUTE, manual=True), step(100)], "^step 1: a pause is either manual or"),
        ([step(100, ZERO, manual=True)], "^step 1: a pause is either manual or"),
        ([step(10, -MINUTE), step(100)], "^step 1: a pause cannot be negative$"),
        ([step(0), step(100)], "^step 1: a weight must be above 0 and at most 100, not 0$"),
        ([step(-5), step(100)], "^step 1: a weight must be above 0"),
        ([step(10), step(150)], "^step 2: a weight must be above 0 and at most 100, not 150$"),
        ([step("10.555"), step(100)], "^step 1: a weight takes at most two decimals"),
        ([step(100), step(100)], "^step 2: nothing can follow the step to weight 100$"),
        ([step(10), step(100), step(50)], "^step 3: nothing can follow the step to weight 100$"),
        ([step(10), Validate(), step(100)], "^step 2: validate runs only before traffic moves$"),
    ],
)
def test_impossible_explicit_steps_are_refused_naming_the_step(
    items: Sequence[ExplicitStep | Validate], message: str
) -> None:
    with pytest.raises(StrategyError, match=message):
        explicit.steps(items, bake=ZERO)


# -- CodeDeploy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("Canary10Percent5Minute", "Canary10Percent5Minutes"),
        ("LambdaAllAtOnc", "LambdaAllAtOnce"),
        ("CodeDeployDefault.LambdaCanary10Percent15Minute", "LambdaCanary10Percent15Minutes"),
        ("linear10percentevery1minute", "Linear10PercentEvery1Minute"),
    ],
)
def test_an_unknown_codedeploy_name_suggests_the_closest(name: str, suggestion: str) -> None:
    with pytest.raises(StrategyError, match=f"did you mean '(CodeDeployDefault.)?{suggestion}'"):
        codedeploy.steps(name, bake=ZERO)


def test_an_unknown_codedeploy_name_far_from_all_suggests_nothing() -> None:
    with pytest.raises(StrategyError) as caught:
        codedeploy.steps("Blue", bake=ZERO)
    assert str(caught.value) == "'Blue' is not a CodeDeploy predefined configuration"


# -- CloudFormation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"type": "LINEAR", "percentage": 0, "interval": 2}, "from 1 to 99, not 0"),
        ({"type": "LINEAR", "percentage": 100, "interval": 2}, "from 1 to 99, not 100"),
        ({"type": "CANARY", "percentage": 0, "interval": 2}, "from 1 to 99, not 0"),
        ({"type": "CANARY", "percentage": 100, "interval": 2}, "from 1 to 99, not 100"),
        ({"type": "CANARY", "percentage": -10, "interval": 2}, "from 1 to 99, not -10"),
        ({"type": "LINEAR", "percentage": 10, "interval": None}, "^LINEAR needs interval$"),
        ({"type": "CANARY", "percentage": None, "interval": 5}, "^CANARY needs percentage$"),
        (
            {"type": "LINEAR", "percentage": None, "interval": None},
            "^LINEAR needs percentage and interval$",
        ),
        ({"type": "CANARY", "percentage": 10, "interval": 0}, "at least 1, not 0"),
        ({"type": "LINEAR", "percentage": 10, "interval": -3}, "at least 1, not -3"),
        ({"type": "LINEAR", "percentage": True, "interval": 1}, "whole numbers"),
        ({"type": "ALL_AT_ONCE", "percentage": 10, "interval": None}, "neither"),
        ({"type": "ALL_AT_ONCE", "percentage": None, "interval": 1}, "neither"),
        ({"type": "BLUE", "percentage": None, "interval": None}, "must be one of"),
        ({"type": "linear", "percentage": 10, "interval": 1}, "not 'linear'"),
        ({"type": "", "percentage": 10, "interval": 1}, "LINEAR, CANARY, ALL_AT_ONCE"),
    ],
)
def test_impossible_cloudformation_shapes_are_refused(
    arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(StrategyError, match=message):
        cloudformation.steps(**arguments, bake=ZERO)  # type: ignore[arg-type]
