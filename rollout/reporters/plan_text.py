"""The plan preview as plain text: no colour, stable, easy to diff in a CI log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from rollout.plan.durations import format_duration
from rollout.preview import PlanPreview, TargetPreview, TimelineRow

if TYPE_CHECKING:  # the live plan reads AWS; the offline preview must not import it
    from rollout.commands.inspect import LivePlan


def format_weight(weight: Decimal) -> str:
    """`10` → `10%`, `12.50` → `12.5%`."""
    text = f"{weight:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def format_offset(row: TimelineRow) -> str:
    """Time from the start, marked when it counts from a manual promote instead."""
    text = format_duration(row.offset)
    return f"promote+{text}" if row.after_pause else text


def format_total(duration: timedelta, manual_pauses: int) -> str:
    """The duration, with the manual pauses that come on top of it."""
    text = format_duration(duration)
    if manual_pauses:
        text += f" + {manual_pauses} manual pause{'s' if manual_pauses > 1 else ''}"
    return text


AFTER_TERRAFORM = "(unresolved: a terraform output, known after it applies)"


def target_heading(target: TargetPreview) -> str:
    """`api: lambda orders-api:live, Canary10Percent5Minutes, 5m`."""
    name = f"{target.resource}:{target.alias}"
    if "{tf." in name:
        name = f"{name} {AFTER_TERRAFORM}"
    return (
        f"{target.name}: {target.kind} {name}, "
        f"{target.strategy}, {format_total(target.duration, target.manual_pauses)}"
    )


def render_plan_text(preview: PlanPreview, *, mode: str) -> str:
    """The preview as plain lines; `mode` says where it came from (offline or live)."""
    return "\n".join(_lines(preview, mode)) + "\n"


def _lines(preview: PlanPreview, mode: str) -> Iterator[str]:
    yield f"rollout plan {preview.name!r} ({mode}): nothing is changed"
    for wave in preview.waves:
        regions = ", ".join(r.region for r in wave.regions)
        yield ""
        yield f"wave {wave.number}: {regions} (up to {wave.parallelism} at once)"
        for region in wave.regions:
            if region.terraform:
                yield f"  {region.region} / terraform: {region.terraform}, before traffic"
            if region.nginx:
                yield f"  {region.region} / nginx: {region.nginx}, before traffic"
            for target in region.targets:
                yield f"  {region.region} / {target_heading(target)}"
                alarms = ", ".join(target.alarms) if target.alarms else "none"
                yield f"    alarms: {alarms}"
                for row in target.timeline:
                    offset, weight = format_offset(row), format_weight(row.weight)
                    yield f"    {offset:>14}  {weight:>7}  {row.action}"
    yield ""
    total = format_total(preview.duration, preview.manual_pauses)
    yield f"total: {total}, alarms polled every {format_duration(preview.poll_interval)}"


def render_live_text(live: LivePlan) -> str:
    """What AWS reports now, after the timeline: per region, each alias and alarm."""
    lines = ["", "live state:"]
    for region, account, principal in live.callers:
        lines.append(f"  {region}: account {account} as {principal}")
    for terraform in live.terraform:
        lines.append(f"  {terraform.region} / terraform: {terraform.summary}")
        lines.extend(f"    {action} {address}" for action, address in terraform.planned)
        if terraform.changes_pending:
            lines.append("    outputs: known after apply")
        lines.extend(f"    output {name} = {value}" for name, value in terraform.outputs)
    for nginx in live.nginx:
        if nginx.note:
            lines.append(f"  {nginx.region} / nginx: {nginx.note}")
        elif nginx.path:
            verdict = "would change" if nginx.changes_pending else "unchanged"
            lines.append(f"  {nginx.region} / nginx: {nginx.path} {verdict}")
            lines.extend(f"    {line}" for line in nginx.diff)
    for status in live.targets:
        lines.append(f"  {status.region} / {status.target}: serves {status.current}")
        lines.append(f"    {'publish' if status.changed else 'keep'}: {status.release}")
    for region, alarm, state in live.alarms:
        lines.append(f"  {region} alarm {alarm}: {state}")
    for problem in live.problems:
        lines.append(f"problem: {problem}")
    verdict = "changes pending" if live.changes_pending else "nothing to do"
    lines.append(f"{verdict}{'; apply would fail' if live.problems else ''}")
    return "\n".join(lines) + "\n"
