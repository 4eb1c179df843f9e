"""Checks that tie a plan's sections together: waves, names, placeholders, strategy weights."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from rollout.names import resource_name
from rollout.plan.errors import KeyPath, PlanError
from rollout.plan.model import Plan
from rollout.plan.placeholders import Placeholder, find_placeholders
from rollout.plan.source import SourceDocument
from rollout.plan.strategy_spec import ExplicitStepsStrategy, strategy_steps
from strategies import Shift, StrategyError

TARGET_OUTPUTS = ("version", "version_arn")
HOOK_ONLY = ("alias_arn", "version")
PAUSE_HOOK_ONLY = ("promote_command",)


def check_plan(plan: Plan, source: SourceDocument) -> list[PlanError]:
    """Every cross-section problem of a structurally valid plan."""
    return [
        *_check_regions(plan, source),
        *_check_target_names(plan, source),
        *_check_distinct_aliases(plan, source),
        *_check_strategies(plan, source),
    ]


def _check_regions(plan: Plan, source: SourceDocument) -> Iterator[PlanError]:
    seen: set[str] = set()
    for index, region in enumerate(plan.regions):
        if region in seen:
            yield source.error(("regions", index), f"{region} is listed twice")
        seen.add(region)
    if plan.waves is None:
        return
    placed: set[str] = set()
    for wave_index, wave in enumerate(plan.waves):
        if not wave:
            yield source.error(("waves", wave_index), "a wave needs at least one region")
        for index, region in enumerate(wave):
            path: KeyPath = ("waves", wave_index, index)
            if region not in seen:
                yield source.error(path, f"{region} is not one of the plan's regions")
            elif region in placed:
                yield source.error(path, f"{region} is already in an earlier place of waves")
            placed.add(region)
    missing = [region for region in plan.regions if region not in placed]
    if missing:
        yield source.error(("waves",), f"waves leave out {', '.join(missing)}")


def _check_target_names(plan: Plan, source: SourceDocument) -> Iterator[PlanError]:
    seen: set[str] = set()
    for index, target in enumerate(plan.targets):
        if target.name in seen:
            yield source.error(
                ("targets", index, "name"), f"another target is named {target.name!r}"
            )
        seen.add(target.name)


def _check_distinct_aliases(plan: Plan, source: SourceDocument) -> Iterator[PlanError]:
    """One alias is one release: two targets may not move the same one."""
    seen: dict[tuple[str, str, str], str] = {}
    for index, target in enumerate(plan.targets):
        if target.lambda_ is not None:
            key = ("lambda", resource_name(target.lambda_.function), target.lambda_.alias)
        else:
            assert target.stepfunctions is not None
            machine = resource_name(target.stepfunctions.state_machine)
            key = ("stepfunctions", machine, target.stepfunctions.alias)
        if key in seen:
            yield source.error(
                ("targets", index, key[0]),
                f"names the same alias as target {seen[key]!r} ({key[1]}:{key[2]}); an alias can "
                "be moved by one target only",
            )
        seen.setdefault(key, target.name)


def _check_strategies(plan: Plan, source: SourceDocument) -> Iterator[PlanError]:
    for index, target in enumerate(plan.targets):
        path: KeyPath = ("targets", index, "strategy")
        try:
            steps = strategy_steps(target.strategy, bake=plan.alarms.bake)
        except StrategyError as exc:
            written_as_steps = isinstance(target.strategy, ExplicitStepsStrategy)
            yield source.error((*path, "steps") if written_as_steps else path, str(exc))
            continue
        if target.kind == "stepfunctions":
            fractional = [s.weight for s in steps if isinstance(s, Shift) and s.weight % 1 != 0]
            if fractional:
                yield source.error(
                    path,
                    f"Step Functions aliases take whole-number weights; this strategy "
                    f"shifts to {fractional[0]}%",
                )


def check_placeholders(source: SourceDocument) -> list[PlanError]:
    """Every misplaced or unknown placeholder, checked on the raw data so any shape is fine."""
    data = source.data if isinstance(source.data, dict) else {}
    has_terraform = "terraform" in data
    raw_targets = data.get("targets")
    target_names = (
        [t.get("name") for t in raw_targets if isinstance(t, dict)]
        if isinstance(raw_targets, list)
        else []
    )
    errors: list[PlanError] = []
    for key, value in data.items():
        for path, placeholder in _placeholders_in(value, (key,)):
            problem = _placeholder_problem(path, placeholder, has_terraform, target_names)
            if problem:
                errors.append(source.error(path, problem))
    return errors


def _placeholders_in(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Placeholder]]:
    if isinstance(value, str):
        for placeholder in find_placeholders(value):
            yield path, placeholder
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _placeholders_in(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _placeholders_in(item, (*path, index))


_REGION_SCOPED = ("aws", "terraform", "nginx", "targets")


def _placeholder_problem(
    path: KeyPath, placeholder: Placeholder, has_terraform: bool, target_names: list[Any]
) -> str | None:
    section = path[0]
    root, *rest = placeholder.parts
    if section not in _REGION_SCOPED:
        return f"placeholders such as {placeholder} are not allowed in {section}"
    if root == "region" and not rest:
        return None
    if root == "tf":
        if section in ("aws", "terraform"):
            return f"{placeholder}: terraform outputs are not known yet in {section}"
        if not has_terraform:
            return f"{placeholder} needs a terraform stage in the plan"
        if len(rest) != 1:
            return f"{placeholder}: write a terraform output as {{tf.NAME}}"
        return None
    if root == "targets" and section == "targets":
        return _target_reference_problem(path, placeholder, rest, target_names)
    if root in HOOK_ONLY and not rest and section == "targets" and "hooks" in path:
        return None
    if root in PAUSE_HOOK_ONLY and not rest and section == "targets" and "on_pause" in path:
        return None
    return f"unknown placeholder {placeholder}{_placeholder_hint(path, root)}"


def _placeholder_hint(path: KeyPath, root: str) -> str:
    known = ["region", "tf", "targets"]
    if "hooks" in path:
        known += list(HOOK_ONLY)
    if "on_pause" in path:
        known += list(PAUSE_HOOK_ONLY)
    close = difflib.get_close_matches(root, known, n=1, cutoff=0.6)
    if close:
        return (
            f"; did you mean {{{close[0]}...}}?"
            if close[0] in ("tf", "targets")
            else f"; did you mean {{{close[0]}}}?"
        )
    return f" (known here: {', '.join('{' + k + '}' for k in known)})"


def _target_reference_problem(
    path: KeyPath, placeholder: Placeholder, rest: list[str], target_names: list[Any]
) -> str | None:
    if len(rest) != 2 or rest[1] not in TARGET_OUTPUTS:
        return f"{placeholder}: write {{targets.NAME.version}} or {{targets.NAME.version_arn}}"
    name = rest[0]
    own_index = path[1] if isinstance(path[1], int) else len(target_names)
    if name not in target_names:
        close = difflib.get_close_matches(name, [str(n) for n in target_names], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{placeholder}: there is no target named {name!r}{hint}"
    if target_names.index(name) >= own_index:
        return f"{placeholder}: target {name!r} must come earlier in targets to be referenced here"
    return None
