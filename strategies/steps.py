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
    previous = Decimal(0)
    for number, item in enumerate(items, start=1):
        if isinstance(item, Validate):
            if previous > 0:
                raise StrategyError(f"step {number}: validate runs only before traffic moves")
            result.append(item)
            continue
        result += _explicit(number, item, previous)
        previous = item.weight
    if previous != HUNDRED:
        raise StrategyError(f"steps must end at weight 100; the last is {previous}")
    if bake < timedelta(0):
        raise StrategyError("the final bake cannot be negative")
    return (*result, Bake(bake))


def _explicit(number: int, item: ExplicitStep, previous: Decimal) -> list[Step]:
    try:
        check_weight(item.weight)
    except StrategyError as exc:
        raise StrategyError(f"step {number}: {exc}") from None
    if previous == HUNDRED:
        raise StrategyError(f"step {number}: nothing can follow the step to weight 100")
    if item.weight <= previous:
        raise StrategyError(
            f"step {number}: weights must increase, but {item.weight} follows {previous}"
        )
    if item.manual and item.pause is not None:
        raise StrategyError(f"step {number}: a pause is either manual or a duration, not both")
    if item.pause is not None and item.pause < timedelta(0):
        raise StrategyError(f"step {number}: a pause cannot be negative")
    if item.manual:
        return [Shift(item.weight), Pause()]
    if item.pause is not None:
        return [Shift(item.weight), Bake(item.pause)]
    return [Shift(item.weight)]
