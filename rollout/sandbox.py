"""A local AWS for the demo, the tests and the benchmarks: moto's server and what a release needs.

`SandboxWorld` creates functions, state machines and alarms in one region of
the emulator and reads back what their aliases serve.
"""

from __future__ import annotations

import io
import json
import logging
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import boto3

from rollout.emulator_revisions import enforce_alias_revisions

FIRST_DEFINITION = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


class SandboxMissingError(Exception):
    """moto is not installed."""


def package(body: str) -> bytes:
    """A deployment package whose handler returns `body`; the same body gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # A fixed timestamp makes the same code give the same package, as a build should.
        entry = zipfile.ZipInfo("index.py", date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(entry, f"def handler(event, context):\n    return {body!r}\n")
    return buffer.getvalue()


@contextmanager
def emulator() -> Iterator[str]:
    """moto's server on a free loopback port, with throwaway credentials; yields its URL."""
    try:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 (an optional extra)
    except ImportError as exc:
        raise SandboxMissingError(
            "the sandbox needs the extra: pip install 'rollout-aws[sandbox]'"
        ) from exc
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    # The emulator accepts any credentials; these keep real ones out of its requests.
    os.environ.update(AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # it logs every request otherwise
    enforce_alias_revisions()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class SandboxWorld:
    """One region of the emulator, with what a plan releases."""

    def __init__(self, endpoint: str, region: str = "us-east-1") -> None:
        session = boto3.Session(region_name=region)
        self.region = region
        self.lam = session.client("lambda", endpoint_url=endpoint)
        self.sfn = session.client("stepfunctions", endpoint_url=endpoint)
        self.cw = session.client("cloudwatch", endpoint_url=endpoint)
        iam = session.client("iam", endpoint_url=endpoint)
        try:
            created = iam.create_role(RoleName="rollout-sandbox", AssumeRolePolicyDocument="{}")
        except iam.exceptions.EntityAlreadyExistsException:
            created = iam.get_role(RoleName="rollout-sandbox")
        self.role = str(created["Role"]["Arn"])

    def function(self, name: str, *, alias: str | None = "live", body: str = "v1") -> None:
        """A function at version 1, behind `alias` when given."""
        self.lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self.role,
            Handler="index.handler",
            Code={"ZipFile": package(body)},
        )
        self.lam.get_waiter("function_active_v2").wait(FunctionName=name)
        version = self.lam.publish_version(FunctionName=name)["Version"]
        if alias:
            self.lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)

    def state_machine(self, name: str, *, alias: str | None = "prod") -> str:
        """A state machine at version 1, behind `alias` when given; returns its ARN."""
        created = self.sfn.create_state_machine(
            name=name, definition=json.dumps(FIRST_DEFINITION), roleArn=self.role, publish=True
        )
        if alias is not None:
            self.sfn.create_state_machine_alias(
                name=alias,
                routingConfiguration=[
                    {"stateMachineVersionArn": created["stateMachineVersionArn"], "weight": 100}
                ],
            )
        return str(created["stateMachineArn"])

    def alarm(self, name: str, state: str = "OK") -> None:
        """A metric alarm in `state`."""
        self.cw.put_metric_alarm(
            AlarmName=name,
            MetricName="Errors",
            Namespace="Sandbox",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        self.set_alarm(name, state)

    def set_alarm(self, name: str, state: str, reason: str = "sandbox") -> None:
        """Put an alarm in `state` (OK, ALARM, INSUFFICIENT_DATA), saying `reason`."""
        self.cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)

    def lambda_routing(self, function: str, alias: str = "live") -> tuple[str, dict[str, Decimal]]:
        """(FunctionVersion, {version: percent}) as Lambda reports the alias now."""
        got: dict[str, Any] = self.lam.get_alias(FunctionName=function, Name=alias)
        weights = (got.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return str(got["FunctionVersion"]), {
            v: Decimal(str(w * 100)).quantize(Decimal("0.01")) for v, w in weights.items()
        }

    def sfn_routing(self, machine_arn: str, alias: str = "prod") -> dict[str, int]:
        """{version number: weight} as Step Functions reports the alias now."""
        got = self.sfn.describe_state_machine_alias(stateMachineAliasArn=f"{machine_arn}:{alias}")
        return {
            str(r["stateMachineVersionArn"]).rsplit(":", 1)[-1]: int(r["weight"])
            for r in got["routingConfiguration"]
        }

    def versions(self, function: str) -> list[str]:
        """The function's published version numbers."""
        listed = self.lam.list_versions_by_function(FunctionName=function)["Versions"]
        return [str(v["Version"]) for v in listed if v["Version"] != "$LATEST"]
