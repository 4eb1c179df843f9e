"""The plan's settings as the engine's own types: the engine never imports the plan model."""

from __future__ import annotations

from rollout.engine.alarm_watch import AlarmPolicy
from rollout.engine.ports import HookKind, HookSpec
from rollout.plan.model import Hook, Plan


def hook_spec(hook: Hook | None) -> HookSpec | None:
    """The engine's view of a plan hook."""
    if hook is None:
        return None
    for kind in HookKind:
        value = getattr(hook, "lambda_" if kind is HookKind.LAMBDA else kind.value)
        if value is not None:
            return HookSpec(kind, value, hook.timeout.total_seconds())
    raise AssertionError("a hook has exactly one kind")  # the plan model guarantees it


def alarm_policy(plan: Plan) -> AlarmPolicy:
    """How the plan asks alarms to be watched."""
    return AlarmPolicy(
        poll_seconds=plan.alarms.poll_interval.total_seconds(),
        insufficient_data_fails=plan.alarms.insufficient_data == "fail",
    )
