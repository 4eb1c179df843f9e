"""CloudFormation's `AWS::StepFunctions::StateMachineAlias` DeploymentPreference shape.

`type` LINEAR, CANARY or ALL_AT_ONCE, `percentage` 1 to 99 and `interval` in whole
minutes, mapped onto the linear, canary and all-at-once steps with AWS's timing.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from strategies import all_at_once, canary, linear
from strategies.base import Step, StrategyError

TYPES = ("LINEAR", "CANARY", "ALL_AT_ONCE")


def steps(
    *, type: str, percentage: int | None, interval: int | None, bake: timedelta
) -> tuple[Step, ...]:
    """The steps of a DeploymentPreference."""
    if type not in TYPES:
        raise StrategyError(
            f"DeploymentPreference type must be one of {', '.join(TYPES)}, not {type!r}"
        )
    if type == "ALL_AT_ONCE":
        if percentage is not None or interval is not None:
            raise StrategyError("ALL_AT_ONCE takes neither percentage nor interval")
        return all_at_once.steps(bake=bake)
    if percentage is None or interval is None:
        missing = " and ".join(
            k for k, v in (("percentage", percentage), ("interval", interval)) if v is None
        )
        raise StrategyError(f"{type} needs {missing}")
    # bool is an int to Python, but `percentage: true` in a template is a mistake.
    if isinstance(percentage, bool) or isinstance(interval, bool):
        raise StrategyError(f"{type} takes whole numbers for percentage and interval")
    if not 1 <= percentage <= 99:
        raise StrategyError(f"percentage must be from 1 to 99, not {percentage}")
    if interval < 1:
        raise StrategyError(f"interval is in whole minutes, at least 1, not {interval}")
    minutes = timedelta(minutes=interval)
    if type == "LINEAR":
        return linear.steps(percent=Decimal(percentage), interval=minutes, bake=bake)
    return canary.steps(percent=Decimal(percentage), interval=minutes, bake=bake)
