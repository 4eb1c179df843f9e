"""CodeDeploy's predefined Lambda deployment configurations, with the timing AWS gives them.

Each is accepted as `CodeDeployDefault.LambdaX`, `LambdaX` or just `X`.
"""

from __future__ import annotations

import difflib
from datetime import timedelta
from decimal import Decimal

from strategies import all_at_once, canary, linear
from strategies.base import Step, StrategyError

_PREFIX = "CodeDeployDefault.Lambda"

# short name → (kind, percent, interval in minutes)
_PREDEFINED: dict[str, tuple[str, int, int]] = {
    "AllAtOnce": ("all_at_once", 100, 0),
    "Canary10Percent5Minutes": ("canary", 10, 5),
    "Canary10Percent10Minutes": ("canary", 10, 10),
    "Canary10Percent15Minutes": ("canary", 10, 15),
    "Canary10Percent30Minutes": ("canary", 10, 30),
    "Linear10PercentEvery1Minute": ("linear", 10, 1),
    "Linear10PercentEvery2Minutes": ("linear", 10, 2),
    "Linear10PercentEvery3Minutes": ("linear", 10, 3),
    "Linear10PercentEvery10Minutes": ("linear", 10, 10),
}


def _short(name: str) -> str | None:
    for prefix in (_PREFIX, "Lambda", ""):
        if name.startswith(prefix) and name[len(prefix) :] in _PREDEFINED:
            return name[len(prefix) :]
    return None


def names() -> tuple[str, ...]:
    """Every accepted spelling of every predefined configuration."""
    return tuple(
        spelled
        for short in _PREDEFINED
        for spelled in (short, f"Lambda{short}", f"{_PREFIX}{short}")
    )


def is_predefined(name: str) -> bool:
    """Whether `name` is one of CodeDeploy's predefined Lambda configurations."""
    return _short(name) is not None


def steps(name: str, *, bake: timedelta) -> tuple[Step, ...]:
    """The steps of a predefined configuration."""
    short = _short(name)
    if short is None:
        close = difflib.get_close_matches(name, names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise StrategyError(f"{name!r} is not a CodeDeploy predefined configuration{hint}")
    kind, percent, minutes = _PREDEFINED[short]
    if kind == "all_at_once":
        return all_at_once.steps(bake=bake)
    interval = timedelta(minutes=minutes)
    if kind == "canary":
        return canary.steps(percent=Decimal(percent), interval=interval, bake=bake)
    return linear.steps(percent=Decimal(percent), interval=interval, bake=bake)
