"""Hooks run for real: shell commands, an HTTP server on loopback; AWS hooks through Stubber.

moto cannot run Lambda code without Docker, nor start an execution of a state
machine version, so those two hook kinds are tested against botocore's Stubber
with the response shapes AWS documents.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from rollout.engine.ports import HookContext, HookSpec
from rollout.hooks import PlanHookRunner
from rollout.pipeline.ports_of_plan import hook_spec
from rollout.plan.model import Hook
from rollout.redact import REDACTED
from tests.engine.fakes import FakeClock

CONTEXT = HookContext(
    region="us-east-1",
    target="api",
    phase="before_traffic",
    alias_arn="arn:aws:lambda:us-east-1:123456789012:function:api:live",
    new_version="8",
    new_version_arn="arn:aws:lambda:us-east-1:123456789012:function:api:8",
    old_version="7",
)


# Shaped like real credentials; the first two are AWS's own documentation examples.
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE" + "Zm9vYmFy/+" * 20


def runner(tmp_path: Path, clients: dict[str, Any] | None = None) -> PlanHookRunner:
    return PlanHookRunner(lambda service, _timeout: (clients or {})[service], FakeClock(), tmp_path)


def hook(**fields: Any) -> HookSpec:
    """A hook as the plan writes it, as the engine hands it to the runner."""
    spec = hook_spec(Hook.model_validate(fields))
    assert spec is not None
    return spec


def test_command_hook_sees_the_release_in_its_environment_and_placeholders(tmp_path: Path) -> None:
    outcome = runner(tmp_path).run(
        hook(command='test "$ROLLOUT_NEW_VERSION" = 8 && echo "{alias_arn} {version}"'), CONTEXT
    )
    assert outcome.passed
    assert outcome.detail == f"{CONTEXT.alias_arn} 8"


def test_command_hook_failing_exit_code_fails_with_its_output(tmp_path: Path) -> None:
    outcome = runner(tmp_path).run(hook(command="echo smoke failed >&2; exit 3"), CONTEXT)
    assert not outcome.passed
    assert outcome.detail == "exit 3: smoke failed"


def test_command_hook_timeout_fails(tmp_path: Path) -> None:
    outcome = runner(tmp_path).run(hook(command="sleep 5", timeout="0.2s"), CONTEXT)
    assert not outcome.passed
    assert "timed out" in outcome.detail


# Values that would run `touch pwned`, split into several words or expand if pasted unquoted.
HOSTILE_VALUES = [
    "x; touch pwned",
    "$(touch pwned)",
    "`touch pwned`",
    'it\'s "quoted" && touch pwned',
    "$HOME | touch pwned",
    "back\\slash\ntouch pwned",
    "",
]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
@pytest.mark.parametrize(
    ("written", "printed"),
    [
        ("{alias_arn}", "[{}]"),
        ("--arn={alias_arn}", "[--arn={}]"),
        # Quotes the user wrote around a placeholder are redundant but must stay harmless.
        ("'{alias_arn}'", "[{}]"),
        ('"{alias_arn}"', "[{}]"),
        ("'arn: {alias_arn};'", "[arn: {};]"),
        ('"in {region}: {alias_arn}!"', "[in us-east-1: {}!]"),
    ],
)
def test_command_hook_placeholder_is_one_literal_argument(
    tmp_path: Path, value: str, written: str, printed: str
) -> None:
    # printf repeats its format once per argument: a value split in two would print two brackets.
    command = f"printf '[%s]' {written}"
    outcome = runner(tmp_path).run(hook(command=command), replace(CONTEXT, alias_arn=value))
    assert not (tmp_path / "pwned").exists()
    assert outcome.passed
    assert outcome.detail == printed.replace("{}", value)


def test_command_hook_gets_the_regions_values_quoted_like_the_others(tmp_path: Path) -> None:
    # Terraform outputs and earlier targets' versions reach hooks through the region's scope.
    values = {"tf.api_url": "https://x; touch pwned", "targets.auth.version": "12"}
    command = "printf '[%s]' {tf.api_url} {targets.auth.version}"
    outcome = runner(tmp_path).run(hook(command=command), replace(CONTEXT, values=values))
    assert not (tmp_path / "pwned").exists()
    assert outcome.detail == "[https://x; touch pwned][12]"


@pytest.mark.parametrize(
    "command",
    [
        'echo "$(echo {alias_arn})"',
        "echo `echo {alias_arn}`",
        'echo "${UNSET:-{alias_arn}}"',
        "echo ${alias_arn}",
        "echo \\{alias_arn}",
        "cat <<EOF\n{alias_arn}\nEOF",
        "true # {alias_arn}",
    ],
)
def test_command_hook_refuses_a_value_it_cannot_quote_where_the_placeholder_stands(
    tmp_path: Path, command: str
) -> None:
    hostile = replace(CONTEXT, alias_arn="x\ntouch pwned; $(touch pwned)")
    outcome = runner(tmp_path).run(hook(command=command), hostile)
    assert not (tmp_path / "pwned").exists()
    assert not outcome.passed
    assert "{alias_arn} cannot be quoted" in outcome.detail


def test_command_hook_placeholder_with_a_plain_value_works_anywhere(tmp_path: Path) -> None:
    # ARNs, versions and regions need no quoting, so they may sit even where quoting is unknowable.
    command = 'cat <<EOF\n{alias_arn} "$(echo {version})" {region}\nEOF'
    outcome = runner(tmp_path).run(hook(command=command), CONTEXT)
    assert outcome.passed
    assert outcome.detail == f'{CONTEXT.alias_arn} "8" us-east-1'


def printing(tmp_path: Path, text: str, exit_code: int = 0) -> Hook:
    """A command hook that prints `text` as is, read from a file so no quoting gets in the way."""
    (tmp_path / "out.txt").write_text(text)
    return hook(command=f"cat out.txt; exit {exit_code}")


@pytest.mark.parametrize(
    ("printed", "secret"),
    [
        (f"signing with {SECRET_KEY} now", SECRET_KEY),
        (f"token {SESSION_TOKEN}", SESSION_TOKEN),
        (f"Credential={ACCESS_KEY_ID}/20260101/us-east-1", ACCESS_KEY_ID),
        ("aws_secret_access_key = not-base64-but-secret", "not-base64-but-secret"),
        ("export AWS_SESSION_TOKEN=short.token", "short.token"),
        ('{"SecretAccessKey": "s3cr3t!"}', "s3cr3t!"),
    ],
)
def test_command_hook_output_has_credentials_redacted(
    tmp_path: Path, printed: str, secret: str
) -> None:
    outcome = runner(tmp_path).run(printing(tmp_path, printed, exit_code=1), CONTEXT)
    assert REDACTED in outcome.detail
    assert secret not in outcome.detail


def test_command_hook_output_has_the_credential_variables_values_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No pattern recognises this value: only knowing the environment's credentials catches it.
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-of-no-known-shape!")
    outcome = runner(tmp_path).run(hook(command='echo "session: $AWS_SESSION_TOKEN"'), CONTEXT)
    assert outcome.detail == f"session: {REDACTED}"


def test_command_hook_long_output_keeps_only_its_tail(tmp_path: Path) -> None:
    outcome = runner(tmp_path).run(hook(command="seq 1000; exit 1"), CONTEXT)
    assert outcome.detail.startswith("exit 1: …")
    assert outcome.detail.endswith("\n998\n999\n1000")
    assert len(outcome.detail) == len("exit 1: ") + 300
    assert "\n500\n" not in outcome.detail


def test_command_hook_secret_cut_by_the_truncation_leaks_nothing(tmp_path: Path) -> None:
    # Cutting first would keep the key's last 18 characters, which no pattern recognises alone.
    outcome = runner(tmp_path).run(printing(tmp_path, f"{SECRET_KEY}\n{'.' * 280}"), CONTEXT)
    assert SECRET_KEY[-10:] not in outcome.detail
    assert outcome.detail.endswith("." * 280)


def test_command_hook_ordinary_output_is_left_alone(tmp_path: Path) -> None:
    ordinary = "\n".join(
        [
            CONTEXT.alias_arn,
            "published version 8",
            f"sha256 {hashlib.sha256(b'api').hexdigest()}",
            # 40 characters, as a secret key, but hex: a git commit or a SHA-1, never a key.
            f"commit {hashlib.sha1(b'api').hexdigest()}",
            # Lambda's CodeSha256: 44 base64 characters (32 bytes and padding), not a 40-char key.
            "CodeSha256 kVzOyTTsbmBj0Gz5vXL6Jx7CqOrA8Rj4xNxFprBqQOM=",
        ]
    )
    assert runner(tmp_path).run(printing(tmp_path, ordinary), CONTEXT).detail == ordinary


PROMOTE = "rollout promote -f 'deploy plans/rollout.yaml' --region us-east-1 --target api"


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/say?"):
            said = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["text"]
            self.send_response(200 if said == [PROMOTE] else 400)
            self.end_headers()
            return
        if self.path == "/private":
            expected = "Basic " + base64.b64encode(b"ops:s3cr3t pass").decode()
            self.send_response(200 if self.headers.get("Authorization") == expected else 401)
            self.end_headers()
            return
        self.send_response(200 if self.path == "/ok" else 500)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_http_hook_passes_on_2xx_and_fails_otherwise(tmp_path: Path, health_server: str) -> None:
    assert runner(tmp_path).run(hook(http=f"{health_server}/ok"), CONTEXT).passed
    failed = runner(tmp_path).run(hook(http=f"{health_server}/broken"), CONTEXT)
    assert not failed.passed and failed.detail == "HTTP 500"


def test_http_hook_sends_the_urls_user_and_password_as_basic_auth(
    tmp_path: Path, health_server: str
) -> None:
    with_user = health_server.replace("http://", "http://ops:s3cr3t%20pass@")
    assert runner(tmp_path).run(hook(http=f"{with_user}/private"), CONTEXT).passed
    refused = runner(tmp_path).run(hook(http=f"{health_server}/private"), CONTEXT)
    assert refused.detail == "HTTP 401"


def test_a_hooks_description_in_events_masks_the_secrets_its_url_carries() -> None:
    described = hook(http="https://ops:hunter22@health.example/check?token=abc123").describe()
    assert described == "http https://ops:[redacted]@health.example/check?token=[redacted]"


def test_an_on_pause_http_hook_gets_the_promote_command_as_one_query_value(
    tmp_path: Path, health_server: str
) -> None:
    paused = replace(CONTEXT, phase="on_pause", promote_command=PROMOTE)
    notice = hook(http=f"{health_server}/say?text={{promote_command}}")
    assert runner(tmp_path).run(notice, paused).passed


def test_an_on_pause_command_hook_gets_the_promote_command_as_one_word_and_in_its_environment(
    tmp_path: Path,
) -> None:
    paused = replace(CONTEXT, phase="on_pause", promote_command=PROMOTE)
    notice = hook(command='test "$ROLLOUT_PROMOTE_COMMAND" = {promote_command} && echo ok')
    assert runner(tmp_path).run(notice, paused).passed


def test_http_hook_to_a_closed_port_fails(tmp_path: Path) -> None:
    assert not runner(tmp_path).run(hook(http="http://127.0.0.1:9/"), CONTEXT).passed


def test_http_hook_failure_has_credentials_in_its_url_redacted(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:9/?X-Amz-Security-Token=not.base64&X-Amz-Credential={ACCESS_KEY_ID}"
    outcome = runner(tmp_path).run(hook(http=url), CONTEXT)
    assert not outcome.passed
    assert "X-Amz-Security-Token=[redacted]&X-Amz-Credential=[redacted]" in outcome.detail


def test_hook_that_cannot_start_has_credentials_in_its_error_redacted(tmp_path: Path) -> None:
    def clients(_service: str, _timeout: float) -> Any:
        raise RuntimeError(f"the request signed by {ACCESS_KEY_ID} with {SECRET_KEY} was refused")

    outcome = PlanHookRunner(clients, FakeClock(), tmp_path).run(
        hook(stepfunctions="smoke"), CONTEXT
    )
    assert (
        outcome.detail
        == f"RuntimeError: the request signed by {REDACTED} with {REDACTED} was refused"
    )


def _payload(text: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(text), len(text))


def test_lambda_hook_with_function_error_fails(tmp_path: Path) -> None:
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response(
            "invoke",
            {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": _payload(b'{"errorMessage": "boom"}'),
            },
            {"FunctionName": "api-smoke-test", "Payload": ANY},
        )
        outcome = runner(tmp_path, {"lambda": client}).run(
            hook(**{"lambda": "api-smoke-test"}), CONTEXT
        )
    assert not outcome.passed
    assert "boom" in outcome.detail


def test_lambda_hook_error_payload_has_credentials_redacted(tmp_path: Path) -> None:
    client = boto3.client("lambda", region_name="us-east-1")
    payload = f'{{"errorMessage": "no access with {SESSION_TOKEN}"}}'.encode()
    with Stubber(client) as stub:
        stub.add_response(
            "invoke",
            {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _payload(payload)},
            None,
        )
        outcome = runner(tmp_path, {"lambda": client}).run(
            hook(**{"lambda": "api-smoke-test"}), CONTEXT
        )
    assert (
        outcome.detail == f'api-smoke-test failed: {{"errorMessage": "no access with {REDACTED}"}}'
    )


def test_lambda_hook_passing(tmp_path: Path) -> None:
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("invoke", {"StatusCode": 200, "Payload": _payload(b"{}")}, None)
        outcome = runner(tmp_path, {"lambda": client}).run(
            hook(**{"lambda": "api-smoke-test"}), CONTEXT
        )
    assert outcome.passed


def test_stepfunctions_hook_waits_for_the_execution(tmp_path: Path) -> None:
    client = boto3.client("stepfunctions", region_name="us-east-1")
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:smoke"
    execution = f"{machine.replace('stateMachine', 'execution')}:run-1"
    with Stubber(client) as stub:
        stub.add_response(
            "start_execution",
            {"executionArn": execution, "startDate": "2026-11-26T00:00:00Z"},
            {"stateMachineArn": machine, "input": ANY},
        )
        running = {
            "executionArn": execution,
            "stateMachineArn": machine,
            "status": "RUNNING",
            "startDate": "2026-11-26T00:00:00Z",
        }
        stub.add_response("describe_execution", running, {"executionArn": execution})
        stub.add_response(
            "describe_execution", {**running, "status": "FAILED"}, {"executionArn": execution}
        )
        outcome = runner(tmp_path, {"stepfunctions": client}).run(
            hook(stepfunctions="smoke"), CONTEXT
        )
    assert not outcome.passed
    assert outcome.detail == "execution FAILED"


def test_lambda_hook_naming_the_released_function_invokes_the_new_version(tmp_path: Path) -> None:
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response(
            "invoke",
            {"StatusCode": 200, "Payload": _payload(b"{}")},
            {"FunctionName": "api", "Payload": ANY, "Qualifier": "8"},
        )
        outcome = runner(tmp_path, {"lambda": client}).run(hook(**{"lambda": "api"}), CONTEXT)
    assert outcome.passed


def test_stepfunctions_hook_naming_the_released_machine_runs_its_new_version(
    tmp_path: Path,
) -> None:
    """moto cannot start an execution of a version ARN: Stubber with AWS's shapes."""
    client = boto3.client("stepfunctions", region_name="us-east-1")
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:flow"
    context = HookContext(
        region="us-east-1",
        target="flow",
        phase="before_traffic",
        alias_arn=f"{machine}:prod",
        new_version=f"{machine}:3",
        new_version_arn=f"{machine}:3",
        old_version=f"{machine}:2",
    )
    execution = "arn:aws:states:us-east-1:123456789012:execution:flow:run-1"
    with Stubber(client) as stub:
        stub.add_response(
            "start_execution",
            {"executionArn": execution, "startDate": "2026-11-26T00:00:00Z"},
            {"stateMachineArn": f"{machine}:3", "input": ANY},
        )
        stub.add_response(
            "describe_execution",
            {
                "executionArn": execution,
                "stateMachineArn": machine,
                "status": "SUCCEEDED",
                "startDate": "2026-11-26T00:00:00Z",
            },
            {"executionArn": execution},
        )
        outcome = runner(tmp_path, {"stepfunctions": client}).run(
            hook(stepfunctions="flow"), context
        )
    assert outcome.passed and outcome.detail == "execution SUCCEEDED"


@pytest.mark.parametrize(
    "written",
    [{"command": "touch ran; echo {tf.missing}"}, {"http": "http://127.0.0.1:1/{tf.missing}"}],
)
def test_a_hook_naming_a_value_the_region_does_not_have_fails_without_running(
    tmp_path: Path, written: dict[str, str]
) -> None:
    outcome = runner(tmp_path).run(hook(**written), CONTEXT)
    assert not outcome.passed
    assert outcome.detail == "{tf.missing} has no value in us-east-1"
    assert not (tmp_path / "ran").exists()
