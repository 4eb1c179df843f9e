"""The live `rollout plan` against moto's server: reads everything, changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_apply import lambda_plan
from tests.e2e.world import World
from tests.support import run_cli


def plan(path: Path, endpoint: str, *more: str) -> tuple[int, str]:
    result = run_cli(["plan", "-f", str(path), "--endpoint-url", endpoint, *more])
    return result.exit_code, result.stdout + result.stderr


def test_live_plan_shows_what_would_be_published_and_changes_nothing(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    path = lambda_plan(tmp_path, "Canary10Percent5Minutes")

    code, out = plan(path, aws_endpoint, "--detailed-exitcode")

    assert code == 2, out
    assert "us-east-1 / api: serves 1: 100%" in out
    assert "publish: code" in out
    assert "us-east-1 alarm api-errors: OK" in out
    assert world.versions("api") == ["1"]
    assert world.lambda_routing("api") == ("1", {})


def test_live_plan_after_the_release_has_nothing_to_do(aws_endpoint: str, tmp_path: Path) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    path = lambda_plan(tmp_path, "AllAtOnce")
    assert (
        run_cli(["apply", "--yes", "-f", str(path), "--endpoint-url", aws_endpoint]).exit_code == 0
    )

    code, out = plan(path, aws_endpoint, "--detailed-exitcode")

    assert code == 0, out
    assert "nothing to do" in out


def test_live_plan_fails_on_a_missing_alarm(aws_endpoint: str, tmp_path: Path) -> None:
    world = World(aws_endpoint)
    world.function("api")
    path = lambda_plan(tmp_path, "AllAtOnce")

    code, out = plan(path, aws_endpoint)

    assert code == 1
    assert "problem: us-east-1: watched alarm api-errors does not exist" in out


def test_an_unreachable_endpoint_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Credentials of some kind, whatever ran before: the endpoint is what is missing.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "sandbox")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "sandbox")
    path = lambda_plan(tmp_path, "AllAtOnce")

    code, out = plan(path, "http://127.0.0.1:9")

    assert code == 1
    assert "Traceback" not in out and "internal error" not in out
    assert "error: " in out and "127.0.0.1:9" in out
