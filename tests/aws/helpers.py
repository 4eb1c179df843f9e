"""What the AWS adapter tests build on moto: clients, a role, functions, machines, alarms."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3

REGION = "us-east-1"
FIRST_DEFINITION: dict[str, Any] = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


def code_zip(body: str) -> bytes:
    """A deployment package whose handler returns `body`; the same body gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # A fixed timestamp: the same code must give the same bytes, hence the same CodeSha256.
        entry = zipfile.ZipInfo("index.py", date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(entry, f"def handler(event, context):\n    return {body!r}\n")
    return buffer.getvalue()


class FakeClock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.time = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += max(seconds, 0.0)


class MotoAws:
    """One region of the moto server, seen through plain boto3 clients."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.lam = self.client("lambda")
        self.sfn = self.client("stepfunctions")
        self.cw = self.client("cloudwatch")
        self.s3 = self.client("s3")
        iam = self.client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        created = iam.create_role(RoleName="runner", AssumeRolePolicyDocument=json.dumps(trust))
        self.role = str(created["Role"]["Arn"])

    def client(self, service: str) -> Any:
        """A boto3 client of the moto server."""
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)

    def function(self, name: str = "api", *, body: str = "v1", alias: str | None = "live") -> None:
        """A zip function at version 1, behind `alias` when given."""
        self.lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self.role,
            Handler="index.handler",
            Code={"ZipFile": code_zip(body)},
        )
        self.lam.get_waiter("function_active_v2").wait(FunctionName=name)
        if alias is not None:
            self.lam.publish_version(FunctionName=name)
            self.lam.create_alias(FunctionName=name, Name=alias, FunctionVersion="1")

    def new_version(self, name: str, body: str) -> str:
        """Upload new code and publish it; the version number."""
        self.lam.update_function_code(FunctionName=name, ZipFile=code_zip(body))
        return str(self.lam.publish_version(FunctionName=name)["Version"])

    def versions(self, name: str = "api") -> list[str]:
        """The function's published version numbers."""
        listed = self.lam.list_versions_by_function(FunctionName=name)["Versions"]
        return [str(v["Version"]) for v in listed if v["Version"] != "$LATEST"]

    def state_machine(self, name: str = "flow", *, alias: str | None = "prod") -> str:
        """A state machine published as version 1, behind `alias` when given; its ARN."""
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

    def sfn_routing(self, machine_arn: str, alias: str = "prod") -> dict[str, int]:
        """{version number: weight} as Step Functions reports the alias."""
        got = self.sfn.describe_state_machine_alias(stateMachineAliasArn=f"{machine_arn}:{alias}")
        return {
            str(r["stateMachineVersionArn"]).rsplit(":", 1)[-1]: int(r["weight"])
            for r in got["routingConfiguration"]
        }

    def alarm(self, name: str) -> None:
        """A metric alarm; tests put it in a state with set_alarm_state."""
        self.cw.put_metric_alarm(
            AlarmName=name,
            MetricName="Errors",
            Namespace="Tests",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
