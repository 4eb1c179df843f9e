"""Explicit steps: the weights and pauses exactly as the plan lists them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from strategies.base import HUNDRED, Bake, Pause, Shift, Step, StrategyError, Validate, check_weight


@dataclass(frozen=True)
class ExplicitStep:
    """Move to `weight`, then wait `pause`, or for a manual promote when `manual`."""

    weight: Decimal
    pause: timedelta | None = None
    manual: bool = False


def steps(items: Sequence[ExplicitStep | Validate], *, bake: timedelta) -> tuple[Step, ...]:
    """The listed steps, then the final bake; the list must climb to exactly 100."""
    if not any(isinstance(item, ExplicitStep) for item in items):
        raise StrategyError("steps need at least one {weight: ...} step")
    result: list[Step] = []
    previous, last_number = Decimal(0), 0
    for number, item in enumerate(items, start=1):
        if isinstance(item, Validate):
            if previous > 0:
                raise StrategyError(f"step {number}: validate runs only before traffic moves")
            result.append(item)
            continue
        weight, moves = _explicit(number, item, previous)
        result += moves
        previous, last_number = weight, number
    if previous != HUNDRED:
        raise StrategyError(
            f"step {last_number}: steps must end at weight 100, but the last weight is {previous}"
        )
    if bake < timedelta(0):
        raise StrategyError("the final bake cannot be negative")
    return (*result, Bake(bake))


def _explicit(number: int, item: ExplicitStep, previous: Decimal) -> tuple[Decimal, list[Step]]:
    """The checked weight of one listed step and the steps it stands for."""
    try:
        weight = check_weight(item.weight)
    except StrategyError as exc:
        raise StrategyError(f"step {number}: {exc}") from None
    if previous == HUNDRED:
        raise StrategyError(f"step {number}: nothing can follow the step to weight 100")
    if weight <= previous:
        raise StrategyError(
            f"step {number}: weights must increase, but {weight} follows {previous}"
        )
    if item.manual and item.pause is not None:
        raise StrategyError(f"step {number}: a pause is either manual or a duration, not both")
    if item.pause is not None and item.pause < timedelta(0):
        raise StrategyError(f"step {number}: a pause cannot be negative")
    if item.manual:
        return weight, [Shift(weight), Pause()]
    if item.pause is not None:
        return weight, [Shift(weight), Bake(item.pause)]
    return weight, [Shift(weight)]
