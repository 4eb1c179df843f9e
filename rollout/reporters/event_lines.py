"""Events as plain timestamped lines, for logs and terminals without the live view."""

from __future__ import annotations

from collections.abc import Callable

from rollout.engine import events as ev
from rollout.redact import mask_secrets


def describe_event(event: ev.Event) -> str:  # noqa: PLR0912 (one case per event kind)
    """What happened, in words."""
    match event:
        case ev.RolloutStarted(plan=plan, waves=waves):
            return f"rollout {plan!r} started: " + " then ".join(
                "[" + ", ".join(wave) + "]" for wave in waves
            )
        case ev.AlarmsChecked(states=states):
            return "alarms: " + ", ".join(f"{name} {state}" for name, state in states)
        case ev.VersionPublished(version=version, summary=summary):
            return f"published version {version} ({summary})"
        case ev.NothingToPublish(summary=summary):
            return f"nothing to publish: {summary}"
        case ev.AliasCreated(arn=arn, version=version):
            return f"created alias {arn} at version {version}"
        case ev.WeightShifted(weight=weight, routing=routing, step=step, steps=steps):
            return f"step {step}/{steps}: shifted to {weight:g}% ({describe_routing(routing)})"
        case ev.BakeStarted(seconds=seconds, final=final):
            then = "before finishing" if final else "before the next step"
            return f"watching alarms for {seconds:g}s {then}"
        case ev.PauseStarted(promote_command=str(command)) if command:
            return f"paused: run `{command}`"
        case ev.PauseStarted():
            return "paused: waiting for `rollout promote`"
        case ev.AlarmChanged(alarm=alarm, previous=previous, state=state):
            return f"alarm {alarm}: {previous or 'unknown'} -> {state}"
        case ev.HookStarted(phase=phase, hook=hook):
            return f"{phase} hook {hook} running"
        case ev.HookFinished(phase="on_pause", hook=hook, passed=False, detail=detail):
            return f"warning: on_pause hook {hook} failed (still paused): {detail}"
        case ev.HookFinished(phase=phase, hook=hook, passed=passed, detail=detail):
            return f"{phase} hook {hook} {'passed' if passed else 'FAILED'}: {detail}"
        case ev.DriftDetected(expected=expected, found=found):
            return f"DRIFT: expected {expected}, found {found}"
        case ev.RollbackStarted(reason=reason):
            return f"rolling back: {reason}"
        case ev.AliasRestored(routing=routing):
            return f"restored alias to {describe_routing(routing)}"
        case ev.RollbackFailed(error=error):
            return f"ROLLBACK FAILED: {error}"
        case ev.TerraformPlanned(add=add, change=change, destroy=destroy, resources=resources):
            counts = f"{add} to add, {change} to change, {destroy} to destroy"
            listed = ", ".join(f"{action} {address}" for action, address in resources)
            return f"terraform plan: {counts}" + (f" ({listed})" if listed else "")
        case ev.TerraformResource(address=address, action=action, status=status):
            elapsed = getattr(event, "elapsed_seconds", None)
            after = f" after {elapsed:g}s" if elapsed is not None and status != "started" else ""
            return f"terraform {address}: {action} {status}{after}"
        case ev.TerraformDiagnostic(severity=severity, summary=summary, detail=detail):
            where = f"{event.file}:{event.line}: " if event.file and event.line else ""
            text = " ".join(detail.split())
            return f"terraform {severity}: {where}{summary}" + (f": {text}" if text else "")
        case ev.TerraformApplied(add=add, change=change, destroy=destroy):
            return f"terraform applied: {add} added, {change} changed, {destroy} destroyed"
        case ev.TerraformOutputs(outputs=outputs):
            shown = ", ".join(f"{name} = {value}" for name, value in outputs)
            return f"terraform outputs: {shown or 'none'}"
        case ev.NginxRendered(path=path, domains=domains, changed=changed, checked=checked):
            state = "written" if changed else "unchanged"
            return f"nginx: {path} {state}, {domains} domain(s), nginx -t {checked}"
        case ev.NginxReloaded(command=command, passed=passed, detail=detail):
            return f"nginx reload `{command}` {'done' if passed else 'FAILED'}: {detail}"
        case ev.RegionFinished(outcome=outcome, message=message):
            return f"region {outcome.replace('_', ' ')}: {message}"
        case ev.RolloutFinished(outcome=outcome, exit_code=code, message=message):
            return f"rollout {outcome.replace('_', ' ')} (exit {code}): {message}"
    return event.kind.replace("_", " ")


def describe_routing(routing: tuple[ev.Share, ...]) -> str:
    """`7: 90%, 8: 10%`."""
    return ", ".join(f"{share.version}: {share.weight:g}%" for share in routing)


def format_line(event: ev.Event) -> str:
    """`2026-11-26T20:10:00Z us-east-1 api: shifted to 10% (1: 90%, 2: 10%)`."""
    stamp = event.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    where = " ".join(part for part in (event.region, event.target) if part)
    prefix = f"{stamp} {where}: " if where else f"{stamp} "
    return prefix + describe_event(event)


class LineReporter:
    """Writes one line per event."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def __call__(self, event: ev.Event) -> None:
        self.write(mask_secrets(format_line(event)))
