"""Kill `rollout apply` at chosen points of its event stream, for the crash matrix.

Shared by the crash tests and the crash benchmark: a two-target release in one
region, an apply that is SIGKILLed right after its Nth event of a kind, and a
check of what AWS and the state file say afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from rollout.sandbox import SandboxWorld, package
from tests.processes import rollout_command

PLAN = """\
version: 1
name: crash
regions: [us-east-1]
targets:
  - name: api
    lambda: {function: api, alias: live, code: {zip: v2.zip}}
    strategy: {type: linear, percent: 50, interval: 0.4s}
    alarms: [api-errors]
  - name: flow
    stepfunctions: {state_machine: flow, alias: prod, definition: flow.json}
    strategy: {type: canary, percent: 20, interval: 0.4s}
    alarms: [flow-failures]
alarms: {poll_interval: 0.1s, bake: 0.3s}
"""


def one_fast_one_slow(canary_interval: str) -> str:
    """PLAN with api released all at once and flow baking its canary for `canary_interval`."""
    return PLAN.replace(
        "strategy: {type: linear, percent: 50, interval: 0.4s}", "strategy: AllAtOnce"
    ).replace("interval: 0.4s}", f"interval: {canary_interval}}}")


@dataclass(frozen=True)
class KillPoint:
    """Kill right after the `nth` event of `kind` (for `target` when given)."""

    kind: str
    nth: int = 1
    target: str | None = None
    alarm_after_shifts: int | None = None  # flip api-errors to ALARM after this many shifts
    after_seconds: float = 0.0  # how long after the event the kill comes

    @property
    def name(self) -> str:
        who = f"-{self.target}" if self.target else ""
        alarm = "-after-alarm" if self.alarm_after_shifts else ""
        return f"{self.kind}{who}-{self.nth}{alarm}"


@dataclass
class Release:
    """A world with a function and a state machine at version 1, and a plan moving both to 2."""

    world: SandboxWorld
    machine: str
    folder: Path
    endpoint: str

    @classmethod
    def create(cls, endpoint: str, folder: Path) -> Release:
        world = SandboxWorld(endpoint)
        world.function("api")
        machine = world.state_machine("flow")
        world.alarm("api-errors")
        world.alarm("flow-failures")
        (folder / "v2.zip").write_bytes(package("v2"))
        flow = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
        (folder / "flow.json").write_text(json.dumps(flow))
        (folder / "rollout.yaml").write_text(PLAN)
        return cls(world, machine, folder, endpoint)

    @property
    def plan(self) -> Path:
        return self.folder / "rollout.yaml"

    def routings(self) -> tuple[object, object]:
        return self.world.lambda_routing("api"), self.world.sfn_routing(self.machine)

    def at_old(self) -> bool:
        return self.routings() == (("1", {}), {"1": 100})

    def at_new(self) -> bool:
        return self.routings() == (("2", {}), {"2": 100})

    def state(self) -> dict[str, object]:
        path = self.folder / ".rollout" / "crash.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def kill_apply_at(
        self, point: KillPoint, command: tuple[str, ...] = ("apply", "--yes")
    ) -> list[str]:
        """Run apply (or `command`), SIGKILL it right after the chosen event; the event kinds
        it emitted."""
        process = subprocess.Popen(
            rollout_command(command[0], self.plan, self.endpoint, *command[1:], "--output", "json"),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
        assert process.stdout is not None
        seen, shifts, kinds = 0, 0, []
        for line in process.stdout:
            event = json.loads(line)
            kinds.append(event["event"])
            if event["event"] == "weight_shifted":
                shifts += 1
                if point.alarm_after_shifts and shifts == point.alarm_after_shifts:
                    self.world.set_alarm("api-errors", "ALARM")
            if point.kind in ("any", event["event"]) and point.target in (
                None,
                event.get("target"),
            ):
                seen += 1
                if seen == point.nth:
                    time.sleep(point.after_seconds)
                    os.killpg(process.pid, signal.SIGKILL)
                    break
        process.wait(30)
        assert seen == point.nth, f"{point.name} never happened: {kinds}"
        self.world.set_alarm("api-errors", "OK")
        return kinds

    def recover(self, command: str) -> int:
        """`rollout rollback` or `rollout resume` as a separate process; its exit code."""
        done = subprocess.run(
            rollout_command(command, self.plan, self.endpoint),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        (self.folder / f"{command}.log").write_text(done.stdout + done.stderr)
        return done.returncode


KILL_POINTS = [
    KillPoint("rollout_started"),
    KillPoint("alarms_checked"),
    KillPoint("version_published", target="api"),
    KillPoint("version_published", target="flow"),
    KillPoint("weight_shifted", target="api"),
    KillPoint("bake_started", target="api"),
    KillPoint("weight_shifted", target="flow"),
    KillPoint("bake_started", target="flow"),
    KillPoint("weight_shifted", nth=2, target="api"),
    KillPoint("weight_shifted", nth=2, target="flow"),
    KillPoint("rollback_started", alarm_after_shifts=2),
    KillPoint("alias_restored", alarm_after_shifts=2),
    KillPoint("region_finished"),
]
