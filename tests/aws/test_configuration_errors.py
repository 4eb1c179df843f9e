"""AWS configuration problems (no profile, no credentials, an expired token) are exit 1 with a hint.

They are found before anything moves: `plan` and `apply` ask who they act as
first, and show the account and principal when it works.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    NoCredentialsError,
    ProfileNotFound,
    UnauthorizedSSOTokenError,
)
from botocore.stub import Stubber

from rollout.aws.errors import AwsConfigError, config_error
from rollout.aws.identity import CallerIdentityReader
from tests.crashes import KillPoint, Release
from tests.e2e.test_apply import lambda_plan
from tests.e2e.world import World
from tests.faultproxy import Faults, fault_proxy
from tests.processes import rollout_command
from tests.support import run_cli


def test_each_kind_of_configuration_problem_gets_its_own_hint() -> None:
    profile = config_error(ProfileNotFound(profile="deploy"), "AWS in us-east-1")
    missing = config_error(NoCredentialsError(), "AWS in us-east-1", "deploy")
    sso = config_error(UnauthorizedSSOTokenError(), "AWS in us-east-1", "deploy")
    other = config_error(ValueError("not about credentials"), "AWS in us-east-1")

    assert profile is not None and "the AWS profile 'deploy' does not exist" in str(profile)
    assert "aws configure list-profiles" in profile.hint
    assert missing is not None and "aws sso login --profile deploy" in missing.hint
    assert sso is not None and sso.hint == "run `aws sso login --profile deploy`"
    assert other is None


def test_an_expired_token_is_a_configuration_error_with_a_hint() -> None:
    # moto cannot expire a token: botocore's Stubber gives STS's real error shape.
    sts = boto3.client("sts", region_name="us-east-1")
    with Stubber(sts) as stub:
        stub.add_client_error(
            "get_caller_identity",
            service_error_code="ExpiredToken",
            service_message="The security token included in the request is expired",
            http_status_code=403,
        )
        with pytest.raises(AwsConfigError) as raised:
            CallerIdentityReader(sts, "us-east-1").identity()
    assert "AWS refused the credentials (ExpiredToken" in str(raised.value)
    assert "aws sso login" in raised.value.hint


def test_other_refusals_are_not_taken_for_configuration_problems() -> None:
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetAlias")
    assert config_error(denied, "GetAlias on api:live") is None


def test_plan_shows_the_account_and_principal_it_acts_as(aws_endpoint: str, tmp_path: Path) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")

    result = run_cli(
        ["plan", "-f", str(lambda_plan(tmp_path, "AllAtOnce")), "--endpoint-url", aws_endpoint]
    )

    assert result.exit_code == 0, result.stderr
    assert "  us-east-1: account 123456789012 as arn:aws:" in result.stdout


def no_aws_configuration(tmp_path: Path, **more: str) -> dict[str, str]:
    """This process's environment with no credentials and empty AWS config files."""
    (tmp_path / "config").write_text("")
    (tmp_path / "credentials").write_text("")
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") or key == "AWS_DEFAULT_REGION"
    }
    return {
        **environment,
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        **more,
    }


@pytest.mark.parametrize(
    ("setting", "said", "hint"),
    [
        (
            {"AWS_PROFILE": "does-not-exist"},
            "profile 'does-not-exist' does not exist",
            "list-profiles",
        ),
        ({}, "no AWS credentials were found", "aws sso login"),
    ],
    ids=["unknown-profile", "no-credentials"],
)
def test_plan_and_apply_without_usable_credentials_exit_1_with_a_hint(
    aws_endpoint: str, tmp_path: Path, setting: dict[str, str], said: str, hint: str
) -> None:
    World(aws_endpoint).function("api")
    plan = lambda_plan(tmp_path, "AllAtOnce")
    for command in (["plan"], ["apply", "--yes"]):
        done = subprocess.run(
            rollout_command(command[0], plan, aws_endpoint, *command[1:]),
            env=no_aws_configuration(tmp_path, **setting),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1, done.stdout + done.stderr
        assert said in done.stderr and "hint: " in done.stderr and hint in done.stderr
        assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / ".rollout" / "e2e.json").exists()


def test_apply_with_an_expired_token_changes_nothing_and_exits_1(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    plan = lambda_plan(tmp_path, "AllAtOnce")
    with fault_proxy(aws_endpoint, Faults(expired_token=True)) as proxy:
        done = subprocess.run(
            rollout_command("apply", plan, proxy, "--yes"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "AWS refused the credentials (ExpiredToken" in done.stderr
    assert "hint: refresh them" in done.stderr
    assert world.versions("api") == ["1"]


@pytest.mark.parametrize("command", ["rollback", "resume"])
def test_recovery_with_an_expired_token_says_so_before_touching_anything(
    aws_endpoint: str, tmp_path: Path, command: str
) -> None:
    release = Release.create(aws_endpoint, tmp_path)
    release.kill_apply_at(KillPoint("bake_started", target="flow"))
    before = release.routings()

    with fault_proxy(aws_endpoint, Faults(expired_token=True)) as proxy:
        done = subprocess.run(
            rollout_command(command, release.plan, proxy),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "AWS refused the credentials (ExpiredToken" in done.stderr and "hint:" in done.stderr
    assert release.routings() == before
    assert release.recover("rollback") == 0 and release.at_old()
