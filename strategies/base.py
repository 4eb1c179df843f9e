"""Steps, the common language of every strategy, and the arithmetic of their timing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TypeAlias

HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Shift:
    """Route `weight` percent of the alias's traffic to the new version."""

    weight: Decimal


@dataclass(frozen=True)
class Bake:
    """Watch alarms for `duration`, then go on."""

    duration: timedelta


@dataclass(frozen=True)
class Pause:
    """Wait for a manual `rollout promote`."""


@dataclass(frozen=True)
class Validate:
    """Run the before-traffic hooks against the new version while it has no traffic."""


Step: TypeAlias = Shift | Bake | Pause | Validate


class StrategyError(ValueError):
    """A configuration no strategy can honour; str() is a one-line message for users."""


@dataclass(frozen=True)
class TimedStep:
    """A step and when it begins, counted from the start (or from the last manual promote)."""

    offset: timedelta
    step: Step
    after_pause: bool


def timeline(steps: Sequence[Step]) -> tuple[TimedStep, ...]:
    """Each step with the time it begins; manual pauses take no time here."""
    offset, after_pause, timed = timedelta(0), False, []
    for step in steps:
        timed.append(TimedStep(offset, step, after_pause))
        if isinstance(step, Bake):
            offset += step.duration
        elif isinstance(step, Pause):
            after_pause = True
    return tuple(timed)


def total_duration(steps: Sequence[Step]) -> timedelta:
    """How long the steps take, not counting manual pauses: the sum of the bakes."""
    return sum((step.duration for step in steps if isinstance(step, Bake)), timedelta(0))


def weights(steps: Sequence[Step]) -> tuple[Decimal, ...]:
    """The weights the steps shift to, in order."""
    return tuple(step.weight for step in steps if isinstance(step, Shift))


def check_weight(weight: Decimal, *, what: str = "a weight") -> Decimal:
    """`weight` without trailing zeros, if above 0, at most 100 and with two decimals at most."""
    if not weight.is_finite() or not 0 < weight <= HUNDRED:
        raise StrategyError(f"{what} must be above 0 and at most 100, not {weight}")
    # Judge the value, not the spelling: 10.500 is as good as 10.5.
    if weight != weight.quantize(_CENT):
        raise StrategyError(f"{what} takes at most two decimals, not {weight}")
    if weight == weight.to_integral_value():
        # normalize() alone would spell 100 as 1E+2.
        return weight.quantize(Decimal(1))
    return weight.normalize()


def check_share(percent: Decimal, strategy: str) -> Decimal:
    """A canary or linear percentage: above 0, below 100, two decimals at most."""
    if not percent.is_finite() or not 0 < percent < HUNDRED:
        raise StrategyError(f"{strategy} percent must be above 0 and below 100, not {percent}")
    return check_weight(percent, what=f"{strategy} percent")


def check_interval(interval: timedelta, strategy: str) -> timedelta:
    """A canary or linear interval: above zero."""
    if interval <= timedelta(0):
        raise StrategyError(f"{strategy} interval must be above zero")
    return interval


def finish(steps: Sequence[Step], bake: timedelta) -> tuple[Step, ...]:
    """`steps`, then everything to the new version and the final bake."""
    if bake < timedelta(0):
        raise StrategyError("the final bake cannot be negative")
    return (*steps, Shift(HUNDRED), Bake(bake))


def with_validation(steps: Sequence[Step]) -> tuple[Step, ...]:
    """`steps`, starting with a Validate unless they have one: a target with a before-traffic
    hook runs it at 0% whatever its strategy."""
    if any(isinstance(step, Validate) for step in steps):
        return tuple(steps)
    return (Validate(), *steps)
