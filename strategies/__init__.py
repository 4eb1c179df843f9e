"""Deployment strategies: pure functions from configuration to a list of steps.

No AWS here: a strategy says what weight the new version gets and how long to
watch alarms between moves; the engine carries the steps out.
"""

from strategies.base import (
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
    with_validation,
)

__all__ = [
    "Bake",
    "Pause",
    "Shift",
    "Step",
    "StrategyError",
    "TimedStep",
    "Validate",
    "timeline",
    "total_duration",
    "weights",
    "with_validation",
]
