"""Builds AWS resources on the moto server for end-to-end tests, and watches aliases change."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3

FIRST_DEFINITION = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


def code_zip(body: str) -> bytes:
    """A deployment package whose handler returns `body`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # A fixed timestamp makes the same code give the same package, as a build should.
        entry = zipfile.ZipInfo("index.py", date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(entry, f"def handler(event, context):\n    return {body!r}\n")
    return buffer.getvalue()


class World:
    """One region of the emulator, with helpers to create what a plan releases."""

    def __init__(self, endpoint: str, region: str = "us-east-1") -> None:
        session = boto3.Session(region_name=region)
        self.region = region
        self.lam = session.client("lambda", endpoint_url=endpoint)
        self.sfn = session.client("stepfunctions", endpoint_url=endpoint)
        self.cw = session.client("cloudwatch", endpoint_url=endpoint)
        iam = session.client("iam", endpoint_url=endpoint)
        try:
            self.role = iam.create_role(RoleName="rollout-test", AssumeRolePolicyDocument="{}")[
                "Role"
            ]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            self.role = iam.get_role(RoleName="rollout-test")["Role"]["Arn"]

    def function(self, name: str, *, alias: str | None = "live", body: str = "v1") -> None:
        """A function at version 1, behind `alias` when given."""
        self.lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self.role,
            Handler="index.handler",
            Code={"ZipFile": code_zip(body)},
        )
        version = self.lam.publish_version(FunctionName=name)["Version"]
        if alias:
            self.lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)

    def state_machine(self, name: str, *, alias: str = "prod") -> str:
        """A state machine at version 1 behind `alias`; returns its ARN."""
        created = self.sfn.create_state_machine(
            name=name, definition=json.dumps(FIRST_DEFINITION), roleArn=self.role, publish=True
        )
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
            Namespace="Test",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        self.set_alarm(name, state)

    def set_alarm(self, name: str, state: str) -> None:
        self.cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")

    def lambda_routing(self, function: str, alias: str = "live") -> tuple[str, dict[str, Decimal]]:
        """(FunctionVersion, {version: percent}) as AWS reports the alias now."""
        got = self.lam.get_alias(FunctionName=function, Name=alias)
        weights = (got.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return got["FunctionVersion"], {
            v: Decimal(str(w * 100)).quantize(Decimal("0.01")) for v, w in weights.items()
        }

    def sfn_routing(self, machine_arn: str, alias: str = "prod") -> dict[str, int]:
        """{version number: weight} as AWS reports the alias now."""
        got = self.sfn.describe_state_machine_alias(stateMachineAliasArn=f"{machine_arn}:{alias}")
        return {
            r["stateMachineVersionArn"].rsplit(":", 1)[-1]: r["weight"]
            for r in got["routingConfiguration"]
        }

    def versions(self, function: str) -> list[str]:
        listed = self.lam.list_versions_by_function(FunctionName=function)["Versions"]
        return [v["Version"] for v in listed if v["Version"] != "$LATEST"]


@dataclass
class AliasWatcher:
    """Samples an alias every 50 ms in a thread; keeps each distinct routing it saw, in order."""

    read: Callable[[], Any]
    on_change: Callable[[Any], None] = lambda _routing: None
    seen: list[Any] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> AliasWatcher:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(5)
        self._sample()

    def _sample(self) -> None:
        routing = self.read()
        if not self.seen or self.seen[-1] != routing:
            self.seen.append(routing)
            self.on_change(routing)

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            self._sample()
