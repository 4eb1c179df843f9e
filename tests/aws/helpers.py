"""What the AWS adapter tests build on moto: the sandbox world, plus S3 and raw clients."""

from __future__ import annotations

from typing import Any

import boto3

from rollout.sandbox import FIRST_DEFINITION, SandboxWorld
from rollout.sandbox import package as code_zip
from tests.engine.fakes import FakeClock

REGION = "us-east-1"

__all__ = ["FIRST_DEFINITION", "REGION", "FakeClock", "MotoAws", "code_zip"]


class MotoAws(SandboxWorld):
    """One region of the moto server, with the defaults these tests use."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint, REGION)
        self.endpoint = endpoint
        self.s3 = self.client("s3")

    def client(self, service: str) -> Any:
        """A boto3 client of the moto server."""
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)

    def function(self, name: str = "api", *, alias: str | None = "live", body: str = "v1") -> None:
        """A zip function at version 1, behind `alias` when given."""
        super().function(name, alias=alias, body=body)

    def new_version(self, name: str, body: str) -> str:
        """Upload new code and publish it; the version number."""
        self.lam.update_function_code(FunctionName=name, ZipFile=code_zip(body))
        return str(self.lam.publish_version(FunctionName=name)["Version"])

    def versions(self, function: str = "api") -> list[str]:
        """The function's published version numbers."""
        return super().versions(function)

    def state_machine(self, name: str = "flow", *, alias: str | None = "prod") -> str:
        """A state machine at version 1, behind `alias` when given; its ARN."""
        return super().state_machine(name, alias=alias)
