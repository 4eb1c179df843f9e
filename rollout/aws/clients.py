"""boto3 sessions and clients for one region: endpoint, profile, assumed role, retry mode."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from rollout.aws.errors import AwsConfigError, config_error
from rollout.engine.ports import TargetError

# botocore's adaptive mode retries throttling and 5xx with backoff and slows
# the client down when AWS pushes back; no hand-made retry loop is needed.
# ROLLOUT_AWS_READ_TIMEOUT shortens the wait for an answer (fault-injection tests).
RETRIES = Config(
    retries={"mode": "adaptive", "max_attempts": 8},
    connect_timeout=5,
    read_timeout=float(os.environ.get("ROLLOUT_AWS_READ_TIMEOUT", "30")),
)


@dataclass(frozen=True)
class AwsAccess:
    """How to reach AWS in one region."""

    region: str
    endpoint_url: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    external_id: str | None = None


def make_session(access: AwsAccess) -> boto3.Session:
    """A session for `access`: the profile's (or default) credentials, or the assumed role's."""
    where = f"AWS in {access.region}"
    try:
        session = boto3.Session(profile_name=access.profile, region_name=access.region)
    except BotoCoreError as exc:
        raise config_error(exc, where, access.profile) or TargetError(f"{where}: {exc}") from exc
    if access.role_arn is None:
        return session
    sts = session.client("sts", endpoint_url=access.endpoint_url, config=RETRIES)
    arguments: dict[str, Any] = {"RoleArn": access.role_arn, "RoleSessionName": "rollout"}
    if access.external_id:
        arguments["ExternalId"] = access.external_id
    try:
        credentials = sts.assume_role(**arguments)["Credentials"]
    except (ClientError, BotoCoreError) as exc:
        raise config_error(exc, where, access.profile) or AwsConfigError(
            f"{where}: assuming {access.role_arn} failed: {exc}",
            "check aws.role_arn, the role's trust policy and aws.external_id",
        ) from exc
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=access.region,
    )


def client(
    access: AwsAccess,
    service: str,
    session: boto3.Session | None = None,
    read_timeout: float | None = None,
    max_attempts: int | None = None,
) -> Any:
    """A client for `service` in the access's region, with retries and the endpoint override."""
    session = session or make_session(access)
    config = RETRIES
    if read_timeout is not None:
        # A synchronous Lambda hook may run for minutes; the call must wait as long.
        config = config.merge(Config(read_timeout=read_timeout))
    if max_attempts is not None:
        config = config.merge(Config(retries={"mode": "adaptive", "max_attempts": max_attempts}))
    try:
        return session.client(service, endpoint_url=access.endpoint_url, config=config)
    except BotoCoreError as exc:  # a profile named by AWS_PROFILE is read only now
        where = f"AWS in {access.region}"
        raise config_error(exc, where, access.profile) or TargetError(f"{where}: {exc}") from exc
