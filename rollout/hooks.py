"""Runs the plan's hooks against a new version: shell commands, HTTP checks, Lambda, Step Functions.

A hook's failure is an outcome, not an exception: the engine decides what it means.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from rollout.aws.permissions import ApiCall, Scope, declared
from rollout.engine.ports import Clock, HookContext, HookKind, HookOutcome, HookSpec
from rollout.plan.placeholders import (
    Placeholder,
    UnresolvedPlaceholderError,
    find_placeholders,
    render,
)
from rollout.processes import run_process
from rollout.redact import redact

# The AWS calls of Lambda and Step Functions hooks; `rollout iam-policy` grants these.
LAMBDA_HOOK_CALLS = (ApiCall("lambda", "Invoke", Scope.HOOK_FUNCTION, ("lambda:InvokeFunction",)),)
STEPFUNCTIONS_HOOK_CALLS = (
    ApiCall("stepfunctions", "StartExecution", Scope.HOOK_STATE_MACHINE),
    ApiCall("stepfunctions", "DescribeExecution", Scope.HOOK_EXECUTION),
    ApiCall("stepfunctions", "StopExecution", Scope.HOOK_EXECUTION),
)
ClientFactory = Callable[[str, float], Any]  # (service, read timeout in s) -> boto3 client
_SHOWN = 300  # characters of a hook's output or error kept in its outcome


def hook_values(context: HookContext) -> dict[str, str]:
    """The placeholders a hook may use."""
    values = {
        **context.values,
        "region": context.region,
        "alias_arn": context.alias_arn,
        "version": context.new_version.rsplit(":", 1)[-1],
    }
    if context.promote_command:  # an on_pause hook: the way to release the pause
        values["promote_command"] = context.promote_command
    return values


def hook_environment(context: HookContext) -> dict[str, str]:
    """`ROLLOUT_*` variables describing the release, for command hooks."""
    environment = {
        "ROLLOUT_REGION": context.region,
        "ROLLOUT_TARGET": context.target,
        "ROLLOUT_PHASE": context.phase,
        "ROLLOUT_ALIAS_ARN": context.alias_arn,
        "ROLLOUT_NEW_VERSION": context.new_version.rsplit(":", 1)[-1],
        "ROLLOUT_NEW_VERSION_ARN": context.new_version_arn,
        "ROLLOUT_OLD_VERSION": (context.old_version or "").rsplit(":", 1)[-1],
    }
    if context.promote_command:
        environment["ROLLOUT_PROMOTE_COMMAND"] = context.promote_command
    return environment


def _url_values(context: HookContext) -> dict[str, str]:
    """The placeholders of an `http` hook: the promote command is text with spaces, so it is
    percent-encoded to stay one query value (`?text={promote_command}`)."""
    values = hook_values(context)
    if "promote_command" in values:
        values["promote_command"] = urllib.parse.quote(values["promote_command"], safe="")
    return values


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
        """Run one hook to completion or its timeout; its detail comes back short and redacted."""
        try:
            outcome = self._run(hook, context, hook.timeout_seconds)
        except UnresolvedPlaceholderError as exc:  # never run with a name left in braces
            outcome = HookOutcome(False, f"{{{exc.args[0]}}} has no value in {context.region}")
        except Exception as exc:  # any failure to run the hook fails it
            outcome = HookOutcome(False, f"{type(exc).__name__}: {_shown(str(exc))}")
        # Details reach terminals, CI logs and the state: mask what no _shown saw (URLs, names).
        return replace(outcome, detail=redact(outcome.detail))

    def _run(self, hook: HookSpec, context: HookContext, timeout: float) -> HookOutcome:
        if hook.kind is HookKind.COMMAND:
            return self._command(hook.value, context, timeout)
        if hook.kind is HookKind.HTTP:
            return _http(render(hook.value, _url_values(context)), timeout)
        if hook.kind is HookKind.LAMBDA:
            return self._lambda(hook.value, context, timeout)
        return self._stepfunctions(hook.value, context, timeout)

    def _command(self, command: str, context: HookContext, timeout: float) -> HookOutcome:
        rendered = _shell_command(command, hook_values(context))
        ended = run_process(
            rendered,
            shell=True,
            cwd=self.workdir,
            env={**os.environ, **hook_environment(context)},
            timeout=timeout,
            cancelled=self.cancelled,
            merge_errors=True,
        )
        if ended.stopped == "cancelled":
            return HookOutcome(False, "stopped: the rollout was interrupted")
        if ended.stopped is not None:
            return HookOutcome(False, f"timed out after {timeout:g}s")
        tail = _shown(ended.output, keep_end=True)  # a failing script says why at the end
        if ended.returncode != 0:
            return HookOutcome(False, f"exit {ended.returncode}: {tail}")
        return HookOutcome(True, tail or "exit 0")

    def _lambda(self, function: str, context: HookContext, timeout: float) -> HookOutcome:
        client = declared(self.clients("lambda", timeout), LAMBDA_HOOK_CALLS)
        arguments = {"FunctionName": function, "Payload": json.dumps(context.payload()).encode()}
        if _names_target(function, context, ":function:"):
            # A hook naming the released function itself smoke-tests the new version.
            arguments["Qualifier"] = context.new_version.rsplit(":", 1)[-1]
        response = client.invoke(**arguments)
        # An error payload starts with its errorMessage: keep the start.
        body = _shown(response["Payload"].read().decode("utf-8", "replace"))
        if response.get("FunctionError") or not 200 <= response["StatusCode"] < 300:
            return HookOutcome(False, f"{function} failed: {body}")
        return HookOutcome(True, f"{function} returned {response['StatusCode']}")

    def _stepfunctions(self, machine: str, context: HookContext, timeout: float) -> HookOutcome:
        client = declared(self.clients("stepfunctions", 60.0), STEPFUNCTIONS_HOOK_CALLS)
        arn = machine if machine.startswith("arn:") else _same_account_arn(context, machine)
        if _names_target(machine, context, ":stateMachine:"):
            # A hook naming the released state machine itself runs the new version.
            arn = context.new_version_arn
        started = client.start_execution(stateMachineArn=arn, input=json.dumps(context.payload()))
        deadline = self.clock.monotonic() + timeout
        while True:
            status = client.describe_execution(executionArn=started["executionArn"])["status"]
            if status != "RUNNING":
                return HookOutcome(status == "SUCCEEDED", f"execution {status}")
            if self.clock.monotonic() >= deadline or self.cancelled():
                client.stop_execution(executionArn=started["executionArn"], cause="rollout timeout")
                return HookOutcome(False, f"execution still running after {timeout:g}s")
            self.clock.sleep(1.0)


class PlaceholderQuotingError(ValueError):
    """A placeholder's value needs shell quoting where the command's quoting cannot be followed."""


def _shell_command(command: str, values: Mapping[str, str]) -> str:
    """`command` with each known placeholder replaced by its value, as literal text of its word."""
    quoting = _ShellQuoting()
    pieces: list[str] = []
    position = 0
    for placeholder in find_placeholders(command):
        written = str(placeholder)
        start = command.index(written, position)
        literal = command[position:start]
        quoting.read(literal)
        value = values.get(placeholder.name)
        if value is None:
            raise UnresolvedPlaceholderError(placeholder.name)
        rendered = quoting.embed(placeholder, value)
        quoting.read(rendered)  # the scanner follows the text the shell will read
        pieces += (literal, rendered)
        position = start + len(written)
    pieces.append(command[position:])
    return "".join(pieces)


class _ShellQuoting:
    """Follows a shell command's quoting, as far as it is simple: unquoted, '...' and "...".

    Where quoting nests or restarts ($(...), backquotes, ${...}, here-documents, comments),
    the rest of the command is opaque: only values that need no quoting may go there.
    """

    def __init__(self) -> None:
        self.state = "plain"  # plain | single | double | opaque
        self.escaped = False  # the next character follows a backslash
        self.dollar = False  # the last character was an unescaped $
        self.previous = "\n"

    def read(self, text: str) -> None:
        """Move past `text`, as the shell would read it."""
        for char in text:
            escaped, self.escaped = self.escaped, False
            dollar, self.dollar = self.dollar, False
            if escaped or self.state == "opaque":
                pass
            elif self.state == "single":
                self.state = "plain" if char == "'" else "single"
            else:
                self.state = self._after(char, dollar)
            self.previous = char

    def _after(self, char: str, dollar: bool) -> str:
        """The state after `char`, read unescaped outside single quotes."""
        plain = self.state == "plain"
        if char == "\\":
            self.escaped = True
        elif char == "$":
            self.dollar = True
        elif char == "`" or (dollar and char in "({'"):
            return "opaque"
        elif plain and char == "<" and self.previous == "<":
            return "opaque"  # a here-document's body has quoting of its own
        elif plain and char == "#" and self.previous in " \t\n;&|()<>":
            return "opaque"  # a comment ends at a newline, which a quoted value may hold
        elif char == '"':
            return "double" if plain else "plain"
        elif plain and char == "'":
            return "single"
        return self.state

    def embed(self, placeholder: Placeholder, value: str) -> str:
        """`value` as text that reads back as exactly `value`, part of the word it stands in."""
        quoted = shlex.quote(value)
        if quoted == value:
            return value  # nothing in it is special to the shell, quoted or not
        if self.escaped or self.dollar or self.state == "opaque":
            raise PlaceholderQuotingError(
                f"{placeholder} cannot be quoted safely where it stands in the command: write it"
                " outside $(...), backquotes, ${...}, here-documents and comments, and not"
                " after a backslash or a $"
            )
        if self.state == "plain":
            return quoted
        # Inside quotes the user wrote ('{alias_arn}', "v{version}"): close them, add the quoted
        # value, reopen them, so the word still holds exactly the value and nothing breaks out.
        mark = "'" if self.state == "single" else '"'
        return f"{mark}{quoted}{mark}"


def _shown(text: str, *, keep_end: bool = False) -> str:
    """`text` redacted, then cut to its first (or last) `_SHOWN` characters, `…` marking the cut."""
    # Redact before cutting: a secret cut in half would no longer look like one.
    text = redact(text.strip())
    if len(text) <= _SHOWN:
        return text
    return "…" + text[1 - _SHOWN :] if keep_end else text[: _SHOWN - 1] + "…"


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
        with urllib.request.urlopen(_request(url), timeout=timeout) as response:
            return HookOutcome(200 <= response.status < 300, f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        return HookOutcome(False, f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError) as exc:
        return HookOutcome(False, f"{url}: {getattr(exc, 'reason', exc)}")
    except ValueError as exc:  # not a URL urllib can open
        return HookOutcome(False, f"{url}: {exc}")


def _request(url: str) -> urllib.request.Request:
    """A GET of `url`; a `user:password@` in it becomes Basic authentication, as curl does."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return urllib.request.Request(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    unquote = urllib.parse.unquote
    credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    token = base64.b64encode(credentials.encode()).decode("ascii")
    return urllib.request.Request(
        urllib.parse.urlunsplit(parts._replace(netloc=netloc)),
        headers={"Authorization": f"Basic {token}"},
    )
