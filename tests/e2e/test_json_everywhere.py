"""A script can drive every command through `--output json`: each stdout line is one JSON object
with `schema_version`, and no colour byte reaches it, whatever the command found."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_apply import lambda_plan
from tests.e2e.world import World
from tests.support import CliResult, run_cli


def json_lines(result: CliResult) -> list[dict[str, object]]:
    """Every stdout line as a JSON object carrying schema_version; nothing else on stdout."""
    assert "\x1b" not in result.stdout + result.stderr
    assert result.stdout.strip(), result.stderr
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    for document in documents:
        assert isinstance(document, dict) and document["schema_version"] == 1, document
    return documents


def test_every_command_that_reports_speaks_json_lines_with_a_schema_version(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    plan = lambda_plan(tmp_path, "AllAtOnce")

    def run(*command: str) -> tuple[int, list[dict[str, object]]]:
        arguments = [*command, "-f", str(plan), "--output", "json"]
        offline = command[0] == "validate" or "--offline" in command
        result = run_cli(arguments if offline else [*arguments, "--endpoint-url", aws_endpoint])
        return result.exit_code, json_lines(result)

    codes = {
        "validate": run("validate"),
        "plan --offline": run("plan", "--offline"),
        "plan": run("plan"),
        "apply": run("apply", "--yes"),
        "status": run("status"),
        "status --watch": run("status", "--watch"),
        "promote": run("promote"),  # nothing in flight: an error, as JSON
        "abort": run("abort"),
        "unlock": run("unlock"),
        "rollback": run("rollback"),
        "resume": run("resume"),
        "history": run("history"),
    }

    assert {name: code for name, (code, _) in codes.items()} == {
        "validate": 0,
        "plan --offline": 0,
        "plan": 0,
        "apply": 0,
        "status": 0,
        "status --watch": 0,
        "promote": 1,
        "abort": 1,
        "unlock": 0,
        "rollback": 0,
        "resume": 0,
        "history": 0,
    }
    assert codes["apply"][1][-1]["event"] == "rollout_finished"
    assert codes["rollback"][1][-1]["event"] == "rollout_finished"
    assert codes["validate"][1][0]["targets"] == ["api"]
    history = codes["history"][1][0]["rollouts"]
    assert isinstance(history, list) and [r["outcome"] for r in history] == ["rolled_back"]
    # A script reads how a command ended from its last line, whatever the command.
    for name, (code, documents) in codes.items():
        assert documents[-1]["exit_code"] == code, name
        if "event" not in documents[-1]:
            assert isinstance(documents[-1]["lines"], list) and documents[-1]["lines"], name
