"""The CI examples: their structure, and their `rollout` commands run as a CI would run them.

The GitHub workflow's steps run in bash as GitHub runs them (`-eo pipefail`), with
GITHUB_ACTIONS=true and temporary summary and output files; the Jenkinsfile's `sh`
commands run as Jenkins runs them. Both release examples/ci/rollout.yaml, with its
intervals shortened, against moto's server.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from rollout.sandbox import package
from tests.e2e.world import World
from tests.processes import wait_until
from tests.support import EXAMPLES, run_cli

WORKFLOW = EXAMPLES / "github-actions" / "rollout.yml"
JENKINSFILE = EXAMPLES / "jenkins" / "Jenkinsfile"
FAST = {"interval: 5m": "interval: 0.3s", "poll_interval: 10s": "poll_interval: 0.1s"}
SLOW = {"interval: 5m": "interval: 30s", "poll_interval: 10s": "poll_interval: 0.1s"}

needs_junit = pytest.mark.skipif(
    "--junit" not in run_cli(["apply", "--help"]).stdout,
    reason="the examples use apply --junit, built on another branch",
)


def workflow() -> dict[Any, Any]:
    return dict(yaml.safe_load(WORKFLOW.read_text(encoding="utf-8")))


def step(job: str, name: str) -> dict[str, Any]:
    steps = workflow()["jobs"][job]["steps"]
    return next(s for s in steps if s.get("name") == name)


def jenkins_commands() -> dict[str, str]:
    """Each rollout command of the Jenkinsfile's `sh` steps, by its subcommand."""
    text = JENKINSFILE.read_text(encoding="utf-8")
    found = re.findall(r"""sh\s*\(?\s*(?:script:\s*)?(['"])(.*?)\1""", text)
    commands = [command for _quote, command in found if "rollout " in command]
    return {command.split("rollout ", 1)[1].split()[0]: command for command in commands}


def post_block(text: str, condition: str) -> str:
    """The body of `post { CONDITION { ... } }` in a Jenkinsfile (up to its closing brace)."""
    post = text[text.index("post {") :]
    start = post.index(f"{condition} {{") + len(condition) + 2
    depth, end = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(post[end], 0)
        end += 1
    return post[start : end - 1]


def test_the_workflow_plans_pull_requests_applies_main_and_rolls_back_on_cancel() -> None:
    document = workflow()
    triggers = document.get("on", document.get(True))  # YAML 1.1 reads `on` as true
    apply_job = document["jobs"]["apply"]

    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    assert "pull_request" in document["jobs"]["plan"]["if"]
    assert "rollout plan" in step("plan", "rollout plan")["run"]
    assert "refs/heads/main" in apply_job["if"]
    assert (
        apply_job["concurrency"]["group"]
        and apply_job["concurrency"]["cancel-in-progress"] is False
    )
    assert "--yes --junit rollout-junit.xml" in step("apply", "rollout apply")["run"]
    rollback = step("apply", "rollout rollback")
    assert "cancelled()" in rollback["if"] and "rollout rollback" in rollback["run"]
    upload = step("apply", "upload the JUnit report")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["path"] == "rollout-junit.xml" and upload["if"] == "always()"
    publish = step("apply", "publish the JUnit report")
    assert "junit" in publish["uses"] and publish["with"]["report_paths"] == "rollout-junit.xml"


def test_the_jenkinsfile_gates_apply_publishes_junit_and_rolls_back_when_aborted() -> None:
    text = JENKINSFILE.read_text(encoding="utf-8")

    assert re.search(r"stage\('Plan'\).*stage\('Approve'\).*input.*stage\('Apply'\)", text, re.S)
    assert set(jenkins_commands()) == {"plan", "apply", "rollback"}
    assert "--yes --junit rollout-junit.xml" in jenkins_commands()["apply"]
    assert re.search(r"junit .*testResults: 'rollout-junit.xml'", post_block(text, "always"))
    assert "rollout rollback" in post_block(text, "aborted")
    assert "PIPESTATUS" not in text and "#!/bin/bash" not in text


class Workspace:
    """A checkout with the example plan at deploy/, a world it releases, and a CI's env."""

    def __init__(self, root: Path, endpoint: str, speeds: dict[str, str]) -> None:
        self.root = root
        deploy = root / "deploy"
        shutil.copytree(EXAMPLES / "ci", deploy)
        plan = (deploy / "rollout.yaml").read_text(encoding="utf-8")
        for slow, fast in {**speeds, "bake: 5m": "bake: 0.2s"}.items():
            plan = plan.replace(slow, fast)
        (deploy / "rollout.yaml").write_text(plan, encoding="utf-8")
        (deploy / "build").mkdir()
        (deploy / "build" / "api.zip").write_bytes(package("v2"))
        self.world = World(endpoint)
        self.world.function("orders-api")
        self.machine = self.world.state_machine("order-flow")
        self.world.alarm("orders-api-errors")
        self.world.alarm("order-flow-failures")
        _state_store(endpoint)
        # Jenkins runs the venv its Install stage made; here it is this one.
        (root / ".venv" / "bin").mkdir(parents=True)
        (root / ".venv" / "bin" / "rollout").symlink_to(Path(sys.executable).parent / "rollout")
        self.summary, self.outputs = root / "summary.md", root / "outputs.txt"
        self.env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "AWS_ENDPOINT_URL": endpoint,  # where the runner's AWS is, as boto3 reads it
        }

    def github(self) -> dict[str, str]:
        return {
            **self.env,
            **{key: str(value) for key, value in workflow()["env"].items()},
            "GITHUB_ACTIONS": "true",
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_OUTPUT": str(self.outputs),
        }

    def jenkins(self) -> dict[str, str]:
        return {**self.env, "PLAN": "deploy/rollout.yaml"}

    def run(self, script: str, env: dict[str, str], shell: tuple[str, ...]) -> int:
        done = subprocess.run(
            [*shell, script],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.output = done.stdout + done.stderr
        return done.returncode

    def killed_mid_canary(self, script: str, env: dict[str, str], shell: tuple[str, ...]) -> None:
        """Start `script`, and kill it (and rollout) once the canary is in place, as a CI
        runner that gives up on a cancelled job does."""
        process = subprocess.Popen(
            [*shell, script],
            cwd=self.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(lambda: self.world.lambda_routing("orders-api")[1] == {"2": Decimal("10.00")})
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)

    def released(self) -> bool:
        return self.world.lambda_routing("orders-api") == ("2", {}) and self.world.sfn_routing(
            self.machine
        ) == {"2": 100}

    def restored(self) -> bool:
        return self.world.lambda_routing("orders-api") == ("1", {}) and self.world.sfn_routing(
            self.machine
        ) == {"1": 100}


def _state_store(endpoint: str) -> None:
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="orders-rollout-state")
    boto3.client("dynamodb", endpoint_url=endpoint).create_table(
        TableName="rollout-locks",
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


GITHUB_BASH = ("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c")
JENKINS_SH = ("sh", "-xe", "-c")

Make = Callable[[dict[str, str]], Workspace]


@pytest.fixture
def workspace(aws_endpoint: str, tmp_path: Path) -> Make:
    return lambda speeds: Workspace(tmp_path, aws_endpoint, speeds)


def test_the_workflow_plan_step_passes_with_changes_pending_and_posts_the_plan(
    workspace: Make,
) -> None:
    ws = workspace(FAST)

    planned = ws.run(step("plan", "rollout plan")["run"], ws.github(), GITHUB_BASH)

    assert planned == 0, ws.output
    assert "changes=true" in ws.outputs.read_text()
    summary = ws.summary.read_text()
    assert "### rollout plan `orders-ci`: changes pending" in summary
    assert "| us-east-1 | api | 1: 100% | publish: code " in summary
    assert "canary 10% for 0.3s" in summary  # the whole plan, folded below the table
    assert "\x1b" not in summary and "\x1b" not in ws.output


@needs_junit
def test_the_workflow_applies_with_outputs_and_junit(workspace: Make) -> None:
    ws = workspace(FAST)

    applied = ws.run(step("apply", "rollout apply")["run"], ws.github(), GITHUB_BASH)
    assert applied == 0, ws.output
    assert ws.released()
    assert (ws.root / "rollout-junit.xml").is_file()
    assert "exit_code=0" in ws.outputs.read_text()
    assert ws.run(step("apply", "needs a human")["run"], ws.github(), GITHUB_BASH) == 0


@needs_junit
def test_the_workflow_rolls_back_a_cancelled_apply(workspace: Make) -> None:
    ws = workspace(SLOW)
    ws.killed_mid_canary(step("apply", "rollout apply")["run"], ws.github(), GITHUB_BASH)

    assert ws.run(step("apply", "rollout rollback")["run"], ws.github(), GITHUB_BASH) == 0
    assert ws.restored(), ws.output


@needs_junit
def test_the_jenkinsfile_plans_applies_and_its_rollback_restores_the_recorded_routing(
    workspace: Make,
) -> None:
    ws = workspace(FAST)
    commands = jenkins_commands()

    assert ws.run(commands["plan"], ws.jenkins(), JENKINS_SH) == 2, ws.output  # changes pending
    assert ws.run(commands["apply"], ws.jenkins(), JENKINS_SH) == 0, ws.output
    assert ws.released() and (ws.root / "rollout-junit.xml").is_file()
    assert ws.run(commands["rollback"], ws.jenkins(), JENKINS_SH) == 0, ws.output
    assert ws.restored()
