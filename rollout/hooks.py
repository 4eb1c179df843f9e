"""Runs the plan's hooks against a new version: shell commands, HTTP checks, Lambda, Step Functions.

A hook's failure is an outcome, not an exception: the engine decides what it means.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rollout.engine.ports import Clock, HookContext, HookKind, HookOutcome, HookSpec
from rollout.plan.placeholders import render_known

ClientFactory = Callable[[str, float], Any]  # (service, read timeout in s) -> boto3 client
_OUTPUT_TAIL = 300
_SLICE = 0.2  # how often a running command hook checks for a timeout or an interrupt
_GRACE_SECONDS = 5.0  # between SIGTERM and SIGKILL


def hook_values(context: HookContext) -> dict[str, str]:
    """The placeholders a hook may use."""
    return {
        "region": context.region,
        "alias_arn": context.alias_arn,
        "version": context.new_version.rsplit(":", 1)[-1],
    }


def hook_environment(context: HookContext) -> dict[str, str]:
    """`ROLLOUT_*` variables describing the release, for command hooks."""
    return {
        "ROLLOUT_REGION": context.region,
        "ROLLOUT_TARGET": context.target,
        "ROLLOUT_PHASE": context.phase,
        "ROLLOUT_ALIAS_ARN": context.alias_arn,
        "ROLLOUT_NEW_VERSION": context.new_version.rsplit(":", 1)[-1],
        "ROLLOUT_NEW_VERSION_ARN": context.new_version_arn,
        "ROLLOUT_OLD_VERSION": (context.old_version or "").rsplit(":", 1)[-1],
    }


class PlanHookRunner:
    """Runs hooks; AWS hooks use clients of the target's region from `clients`."""

    def __init__(
        self,
        clients: ClientFactory,
        clock: Clock,
        workdir: Path,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        self.clients = clients
        self.clock = clock
        self.workdir = workdir
        self.cancelled = cancelled

    def run(self, hook: HookSpec, context: HookContext) -> HookOutcome:
        """Run one hook to completion or its timeout."""
        timeout = hook.timeout_seconds
        try:
            if hook.kind is HookKind.COMMAND:
                return self._command(hook.value, context, timeout)
            if hook.kind is HookKind.HTTP:
                return _http(render_known(hook.value, hook_values(context)), timeout)
            if hook.kind is HookKind.LAMBDA:
                return self._lambda(hook.value, context, timeout)
            return self._stepfunctions(hook.value, context, timeout)
        except Exception as exc:  # any failure to run the hook fails it
            return HookOutcome(False, f"{type(exc).__name__}: {exc}")

    def _command(self, command: str, context: HookContext, timeout: float) -> HookOutcome:
        rendered = render_known(command, hook_values(context))
        # Its own session: Ctrl-C reaches rollout, which decides when the hook must stop.
        process = subprocess.Popen(
            rendered,
            shell=True,
            cwd=self.workdir,
            env={**os.environ, **hook_environment(context)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        waited = 0.0
        while True:
            try:
                output, _ = process.communicate(timeout=_SLICE)
                break
            except subprocess.TimeoutExpired:
                waited += _SLICE
            if self.cancelled():
                _stop(process)
                return HookOutcome(False, "stopped: the rollout was interrupted")
            if waited >= timeout:
                _stop(process)
                return HookOutcome(False, f"timed out after {timeout:g}s")
        tail = output.strip()[-_OUTPUT_TAIL:]
        if process.returncode != 0:
            return HookOutcome(False, f"exit {process.returncode}: {tail}")
        return HookOutcome(True, tail or "exit 0")

    def _lambda(self, function: str, context: HookContext, timeout: float) -> HookOutcome:
        client = self.clients("lambda", timeout)
        arguments = {"FunctionName": function, "Payload": json.dumps(asdict(context)).encode()}
        if _names_target(function, context, ":function:"):
            # A hook naming the released function itself smoke-tests the new version.
            arguments["Qualifier"] = context.new_version.rsplit(":", 1)[-1]
        response = client.invoke(**arguments)
        body = response["Payload"].read().decode("utf-8", "replace")[:_OUTPUT_TAIL]
        if response.get("FunctionError") or not 200 <= response["StatusCode"] < 300:
            return HookOutcome(False, f"{function} failed: {body}")
        return HookOutcome(True, f"{function} returned {response['StatusCode']}")

    def _stepfunctions(self, machine: str, context: HookContext, timeout: float) -> HookOutcome:
        client = self.clients("stepfunctions", 60.0)
        arn = machine if machine.startswith("arn:") else _same_account_arn(context, machine)
        if _names_target(machine, context, ":stateMachine:"):
            # A hook naming the released state machine itself runs the new version.
            arn = context.new_version_arn
        started = client.start_execution(stateMachineArn=arn, input=json.dumps(asdict(context)))
        deadline = self.clock.monotonic() + timeout
        while True:
            status = client.describe_execution(executionArn=started["executionArn"])["status"]
            if status != "RUNNING":
                return HookOutcome(status == "SUCCEEDED", f"execution {status}")
            if self.clock.monotonic() >= deadline or self.cancelled():
                client.stop_execution(executionArn=started["executionArn"], cause="rollout timeout")
                return HookOutcome(False, f"execution still running after {timeout:g}s")
            self.clock.sleep(1.0)


def _stop(process: subprocess.Popen[str]) -> None:
    """Ask a hook's process group to end, then make it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.communicate(timeout=_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def _names_target(name_or_arn: str, context: HookContext, kind: str) -> bool:
    """Whether a hook names the very function or state machine being released."""
    if kind not in context.new_version_arn:
        return False
    released = context.new_version_arn.rsplit(":", 1)[0]  # drop the version
    return name_or_arn in (released, released.rsplit(":", 1)[-1])


def _same_account_arn(context: HookContext, name: str) -> str:
    """A state machine named `name` in the target's account and region."""
    # The target's ARNs carry its partition and account: arn:PARTITION:SERVICE:REGION:ACCOUNT:...
    partition, account = context.alias_arn.split(":")[1], context.alias_arn.split(":")[4]
    return f"arn:{partition}:states:{context.region}:{account}:stateMachine:{name}"


def _http(url: str, timeout: float) -> HookOutcome:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return HookOutcome(200 <= response.status < 300, f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        return HookOutcome(False, f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError) as exc:
        return HookOutcome(False, f"{url}: {getattr(exc, 'reason', exc)}")
