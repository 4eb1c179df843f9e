"""The policy a plan needs, from the plan alone: which statements, which ARNs, which account."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support import run_cli

HOOKED = """\
version: 1
name: orders
regions: [us-east-1, cn-north-1]
aws: {role_arn: "arn:aws:iam::111122223333:role/deployer"}
targets:
  - name: api
    lambda:
      function: "{tf.api_function_name}"
      alias: live
      code: {s3: {bucket: artifacts, key: "api/{region}.zip", version: "3"}}
    strategy: AllAtOnce
    hooks:
      before_traffic: {lambda: "smoke-{region}"}
      after_traffic: {stepfunctions: check}
terraform: {dir: infra}
"""


def policy(write_plan: Callable[..., Path], text: str, *more: str) -> dict[str, Any]:
    result = run_cli(["iam-policy", "-f", str(write_plan(text)), *more])
    assert result.exit_code == 0, result.stderr
    return {s["Sid"]: s for s in json.loads(result.stdout)["Statement"]}


def test_hooks_code_packages_and_placeholders_get_their_own_statements(
    write_plan: Callable[..., Path],
) -> None:
    statements = policy(write_plan, HOOKED)

    assert statements["InvokeLambdaHooks"]["Resource"] == [
        "arn:aws:lambda:us-east-1:111122223333:function:smoke-us-east-1",
        "arn:aws:lambda:us-east-1:111122223333:function:smoke-us-east-1:*",
        "arn:aws-cn:lambda:cn-north-1:111122223333:function:smoke-cn-north-1",
        "arn:aws-cn:lambda:cn-north-1:111122223333:function:smoke-cn-north-1:*",
    ]
    # A name terraform gives only at run time is a wildcard in its place, and said so.
    assert (
        "arn:aws:lambda:us-east-1:111122223333:function:*"
        in (statements["ReleaseLambdaAliases"]["Resource"])
    )
    assert statements["ReadCodePackages"]["Action"] == ["s3:GetObjectVersion"]
    assert statements["WatchStepFunctionsHookExecutions"]["Action"] == [
        "states:DescribeExecution",
        "states:StopExecution",
    ]
    assert "NoResourceLevelPermissions" in statements
    assert "StateDocuments" not in statements  # local state needs no AWS
    assert "CloudWatch" not in json.dumps(statements)  # no alarms, no DescribeAlarms


def test_the_account_option_wins_over_the_role_and_notes_go_to_stderr(
    write_plan: Callable[..., Path],
) -> None:
    path = write_plan(HOOKED)
    result = run_cli(["iam-policy", "-f", str(path), "--account", "*"])

    assert ":*:function:smoke-us-east-1" in result.stdout
    assert "warning: {tf.api_function_name} gets its value at run time" in result.stderr
    assert "terraform runs with these credentials too" in result.stderr
    json.loads(result.stdout)  # the document alone on standard output


def test_json_output_wraps_the_document_for_scripts(write_plan: Callable[..., Path]) -> None:
    result = run_cli(["iam-policy", "-f", str(write_plan(HOOKED)), "--output", "json"])

    document = json.loads(result.stdout)
    assert document["exit_code"] == 0 and document["schema_version"] == 1
    assert document["policy"]["Version"] == "2012-10-17"


def test_an_account_that_is_not_twelve_digits_is_a_usage_error(
    write_plan: Callable[..., Path],
) -> None:
    result = run_cli(["iam-policy", "-f", str(write_plan(HOOKED)), "--account", "12345"])

    assert result.exit_code == 2
    assert "an AWS account is 12 digits" in result.stderr
