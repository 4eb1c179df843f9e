"""The terraform stage end to end: the real binary per region, then traffic on moto's server."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from rollout.sandbox import package
from tests.e2e.test_apply import FAST
from tests.e2e.world import World
from tests.processes import rollout_command, wait_until
from tests.support import CliResult, run_cli
from tests.terraform.support import config_copy, null_plugin_dir, terraform_binary

REGIONS = ["us-east-1", "eu-west-1", "ap-south-1"]


def terraform_release(
    endpoint: str, folder: Path, regions: list[str] = REGIONS, *, extra: str = ""
) -> tuple[Path, dict[str, World]]:
    """Functions named `api-REGION` that terraform's outputs name, and a plan releasing them."""
    worlds = {}
    for region in regions:
        world = World(endpoint, region)
        world.function(f"api-{region}")
        world.alarm("api-errors")
        worlds[region] = world
    config_copy("outputs", folder)
    (folder / "v2.zip").write_bytes(package("v2"))
    plan = folder / "rollout.yaml"
    plan.write_text(
        f"version: 1\nname: tf\nregions: [{', '.join(regions)}]\n"
        "terraform:\n"
        "  dir: outputs\n"
        f"  binary: {terraform_binary()}\n"
        "  backend_config: {path: '../state/{region}/terraform.tfstate'}  # terraform: from dir\n"
        "  vars: {region: '{region}', tag: v2}\n"
        "targets:\n"
        "  - name: api\n"
        "    lambda: {function: '{tf.function_name}', alias: live, code: {zip: v2.zip}}\n"
        "    strategy: AllAtOnce\n"
        "    alarms: [api-errors]\n" + extra + FAST,
        encoding="utf-8",
    )
    return plan, worlds


def apply_json(plan: Path, endpoint: str, *more: str) -> tuple[CliResult, list[dict[str, object]]]:
    result = run_cli(
        ["apply", "--yes", "--output", "json", "-f", str(plan), "--endpoint-url", endpoint, *more]
    )
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result, events


def test_three_regions_apply_terraform_then_release_the_functions_its_outputs_name(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, worlds = terraform_release(aws_endpoint, tmp_path)

    result, events = apply_json(plan, aws_endpoint)

    assert result.exit_code == 0, result.stdout + result.stderr
    for region, world in worlds.items():
        assert world.lambda_routing(f"api-{region}") == ("2", {})
        # Each region its own state, kept where the backend configuration says.
        state = json.loads((tmp_path / "state" / region / "terraform.tfstate").read_text())
        assert state["outputs"]["function_name"]["value"] == f"api-{region}"
    outputs = [e for e in events if e["event"] == "terraform_outputs"]
    assert sorted(str(e["region"]) for e in outputs) == sorted(REGIONS)
    assert ["token", "(sensitive)"] in outputs[0]["outputs"]  # type: ignore[operator]


def test_a_second_run_with_nothing_to_change_applies_nothing(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, _worlds = terraform_release(aws_endpoint, tmp_path, ["us-east-1"])
    assert apply_json(plan, aws_endpoint)[0].exit_code == 0

    result, events = apply_json(plan, aws_endpoint)

    assert result.exit_code == 0, result.stdout + result.stderr
    kinds = [e["event"] for e in events]
    assert "terraform_planned" in kinds and "terraform_applied" not in kinds
    planned = next(e for e in events if e["event"] == "terraform_planned")
    assert (planned["add"], planned["change"], planned["destroy"]) == (0, 0, 0)


def test_a_sensitive_output_is_in_no_output_and_not_in_the_state_file(
    aws_endpoint: str, tmp_path: Path
) -> None:
    # The hook prints the secrets it was given (a token, and a map holding a password).
    hook = "    hooks:\n      after_traffic: {command: 'echo token={tf.token} db={tf.db}'}\n"
    plan, _worlds = terraform_release(aws_endpoint, tmp_path, ["us-east-1"], extra=hook)

    as_json, events = apply_json(plan, aws_endpoint)
    as_text = run_cli(["status", "-f", str(plan), "--endpoint-url", aws_endpoint])
    status_json = run_cli(
        ["status", "--output", "json", "-f", str(plan), "--endpoint-url", aws_endpoint]
    )

    assert as_json.exit_code == 0, as_json.stdout + as_json.stderr
    assert "token=[redacted]" in as_json.stdout  # the hook ran with it, and it was masked
    record = (tmp_path / ".rollout" / "tf.json").read_text()
    history = (tmp_path / ".rollout" / "tf.history.jsonl").read_text()
    for text in (
        as_json.stdout,
        as_json.stderr,
        as_text.stdout,
        status_json.stdout,
        record,
        history,
    ):
        assert "s3cr3t-us-east-1" not in text
        assert "hunter2-pw-us-east-1" not in text  # a member of a sensitive map too
    assert "sha256:" in record
    # A value too short to mask without masking ordinary words is said to be so.
    warnings = [e for e in events if e["event"] == "terraform_diagnostic"]
    assert any("'pin' cannot be masked" in str(e["summary"]) for e in warnings)


def test_a_sensitive_output_cannot_name_a_resource(aws_endpoint: str, tmp_path: Path) -> None:
    plan, _worlds = terraform_release(aws_endpoint, tmp_path, ["us-east-1"])
    plan.write_text(plan.read_text().replace("{tf.function_name}", "{tf.token}"))

    result, _events = apply_json(plan, aws_endpoint)

    assert result.exit_code == 1, result.stdout + result.stderr
    assert "{tf.token} is a sensitive terraform output" in result.stdout
    assert "s3cr3t" not in result.stdout + (tmp_path / ".rollout" / "tf.json").read_text()


def test_a_hook_naming_an_output_terraform_does_not_have_fails_before_publishing(
    aws_endpoint: str, tmp_path: Path
) -> None:
    hook = "    hooks:\n      after_traffic: {command: 'echo {tf.typo}'}\n"
    plan, worlds = terraform_release(aws_endpoint, tmp_path, ["us-east-1"], extra=hook)

    result, events = apply_json(plan, aws_endpoint)

    assert result.exit_code == 1, result.stdout + result.stderr
    ended = next(e for e in events if e["event"] == "region_finished")
    assert "terraform has no output 'typo' in us-east-1 (its outputs: " in str(ended["message"])
    assert worlds["us-east-1"].versions("api-us-east-1") == ["1"]  # nothing published
    planned = run_cli(["plan", "-f", str(plan), "--endpoint-url", aws_endpoint])
    assert planned.exit_code == 1  # now its outputs are known, plan finds it too
    assert "terraform has no output 'typo'" in planned.stdout + planned.stderr


def test_plan_never_touches_the_data_directory_a_running_apply_uses(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, _worlds = terraform_release(aws_endpoint, tmp_path, ["us-east-1"])
    assert apply_json(plan, aws_endpoint)[0].exit_code == 0
    live = tmp_path / ".rollout" / "terraform" / "tf" / "us-east-1" / "terraform.tfstate"
    before = live.read_text()
    plan.write_text(plan.read_text().replace("../state/{region}", "../moved/{region}"))

    result = run_cli(["plan", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert live.read_text() == before  # the backend the last apply used, untouched
    assert result.exit_code == 1
    assert "the backend configuration differs from the last run here" in (
        result.stdout + result.stderr
    )


def test_a_configuration_error_in_one_region_stops_it_and_the_next_wave_before_traffic(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, worlds = terraform_release(aws_endpoint, tmp_path, ["us-east-1", "eu-west-1"])
    # Wave 1 is us-east-1; its region is refused by a precondition-like error.
    text = plan.read_text().replace(
        "regions: [us-east-1, eu-west-1]",
        "regions: [us-east-1, eu-west-1]\nwaves: [[us-east-1], [eu-west-1]]",
    )
    plan.write_text(text.replace("tag: v2", "tag: v2, sizes: 'not a list'"))

    result, _events = apply_json(plan, aws_endpoint)

    assert result.exit_code == 1, result.stdout + result.stderr
    refusal = json.loads(result.stdout)["lines"]
    assert any(line.startswith("error: us-east-1 terraform:") for line in refusal), refusal
    assert any("sizes" in line for line in refusal)
    for region, world in worlds.items():
        assert world.lambda_routing(f"api-{region}") == ("1", {})


def test_plan_shows_what_terraform_would_change_and_that_outputs_come_after_apply(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, worlds = terraform_release(aws_endpoint, tmp_path, ["us-east-1"])

    before = run_cli(["plan", "-f", str(plan), "--endpoint-url", aws_endpoint])
    detailed = run_cli(
        ["plan", "--detailed-exitcode", "-f", str(plan), "--endpoint-url", aws_endpoint]
    )

    assert before.exit_code == 0, before.stdout + before.stderr
    assert "us-east-1 / terraform:" in before.stdout
    assert "outputs: known after apply" in before.stdout
    assert "known after terraform applies" in before.stdout  # the function it names
    assert detailed.exit_code == 2  # terraform's changes count as changes
    assert not (tmp_path / "state" / "us-east-1" / "terraform.tfstate").exists()  # no apply
    assert worlds["us-east-1"].versions("api-us-east-1") == ["1"]

    assert apply_json(plan, aws_endpoint)[0].exit_code == 0
    after = run_cli(["plan", "-f", str(plan), "--endpoint-url", aws_endpoint])
    # Nothing to change: its outputs are known, so the targets they name are read too.
    assert "output function_name = api-us-east-1" in after.stdout
    assert "output token = (sensitive)" in after.stdout
    assert "us-east-1 / api: serves" in after.stdout and "nothing to do" in after.stdout


def test_offline_plan_marks_names_that_terraform_outputs_fill(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, _ = terraform_release(aws_endpoint, tmp_path, ["us-east-1"])

    result = run_cli(["plan", "--offline", "-f", str(plan)])

    assert result.exit_code == 0
    assert "us-east-1 / terraform: init, plan and apply outputs, before traffic" in result.stdout
    assert "{tf.function_name}:live (unresolved: a terraform output" in result.stdout
    document = json.loads(
        run_cli(["plan", "--offline", "--output", "json", "-f", str(plan)]).stdout
    )
    target = document["waves"][0]["regions"][0]["targets"][0]
    assert target["unresolved"] == ["tf.function_name"]


def test_status_says_terraform_is_not_undone_and_rollback_restores_the_recorded_aliases(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, worlds = terraform_release(aws_endpoint, tmp_path, ["us-east-1"])
    assert apply_json(plan, aws_endpoint)[0].exit_code == 0
    # The terraform section changes after the release: rollback needs none of it.
    plan.write_text(plan.read_text().replace("dir: outputs", "dir: elsewhere"))

    status = run_cli(["status", "-f", str(plan), "--endpoint-url", aws_endpoint])
    rolled = run_cli(["rollback", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert "us-east-1 terraform: applied (" in status.stdout
    assert "not undone by `rollout rollback`" in status.stdout
    assert rolled.exit_code == 0, rolled.stdout + rolled.stderr
    assert worlds["us-east-1"].lambda_routing("api-us-east-1") == ("1", {})


def null_release(endpoint: str, folder: Path) -> tuple[Path, World]:
    """One region whose terraform creates a null_resource (its apply as slow as TF_VAR_sleep)."""
    plan, worlds = null_release_in(endpoint, folder, ["us-east-1"])
    return plan, worlds["us-east-1"]


def null_release_in(
    endpoint: str, folder: Path, regions: list[str]
) -> tuple[Path, dict[str, World]]:
    """Regions whose terraform creates a null_resource each."""
    plan, worlds = terraform_release(endpoint, folder, regions)
    config_copy("null_resources", folder)
    plugins = null_plugin_dir(folder)
    plan.write_text(
        plan.read_text()
        .replace("dir: outputs", f"dir: null_resources\n  plugin_dir: {plugins}")
        .replace("tag: v2", "release: v2")
    )
    return plan, worlds


def started(
    plan: Path, endpoint: str, log: Path, *command: str, sleep: int = 0
) -> subprocess.Popen[bytes]:
    """`rollout COMMAND` as its own process, its output in `log`; terraform's apply takes
    `sleep` seconds (the null configuration's provisioner)."""
    return subprocess.Popen(
        rollout_command(command[0], plan, endpoint, *command[1:]),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "TF_VAR_sleep": str(sleep)},
    )


def processes_working_in(folder: Path) -> list[int]:
    """The processes whose working directory is `folder`: terraform and what it started."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cwd").readlink() == folder:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_a_machine_lost_during_terraform_apply_is_carried_on_by_resume(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, world = null_release(aws_endpoint, tmp_path)
    log = tmp_path / "log"
    # This run's apply takes a minute.
    process = started(plan, aws_endpoint, log, "apply", "--yes", sleep=60)
    wait_until(lambda: "null_resource.api: create started" in log.read_text(), seconds=60)

    # The runner dies with everything it started: rollout, terraform and the provisioner.
    doomed = [process.pid, *processes_working_in(tmp_path / "null_resources")]
    for pid in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)
    process.wait(30)
    record = json.loads((tmp_path / ".rollout" / "tf.json").read_text())
    assert record["regions"]["us-east-1"]["terraform"]["status"] == "applying"

    result = run_cli(["resume", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert result.exit_code == 0, result.stdout + result.stderr
    assert "terraform applied: 1 added" in result.stdout
    assert world.lambda_routing("api-us-east-1") == ("2", {})
    state = json.loads((tmp_path / "state" / "us-east-1" / "terraform.tfstate").read_text())
    assert [r["type"] for r in state["resources"]] == ["null_resource"]


def killed_at_a_manual_pause(endpoint: str, folder: Path) -> tuple[Path, World]:
    """A null_resource release killed while its target waits at a manual pause (terraform
    done, the alias at 10%)."""
    plan, world = null_release(endpoint, folder)
    plan.write_text(
        plan.read_text().replace(
            "strategy: AllAtOnce",
            "strategy: {steps: [{weight: 10, pause: manual}, {weight: 100}]}",
        )
    )
    log = folder / "log"
    process = started(plan, endpoint, log, "apply", "--yes")
    wait_until(lambda: "paused: run `rollout promote" in log.read_text(), seconds=60)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)
    return plan, world


def test_a_resumed_region_whose_terraform_finished_does_not_apply_again(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, world = killed_at_a_manual_pause(aws_endpoint, tmp_path)
    state_file = tmp_path / "state" / "us-east-1" / "terraform.tfstate"
    serial = json.loads(state_file.read_text())["serial"]

    resumed = started(plan, aws_endpoint, tmp_path / "resumed", "resume")
    wait_until(lambda: "paused" in (tmp_path / "resumed").read_text(), seconds=60)
    assert run_cli(["promote", "-f", str(plan), "--endpoint-url", aws_endpoint]).exit_code == 0

    assert resumed.wait(60) == 0, (tmp_path / "resumed").read_text()
    assert "terraform" not in (tmp_path / "resumed").read_text().replace("terraform:", "")
    assert json.loads(state_file.read_text())["serial"] == serial  # not applied again
    assert world.lambda_routing("api-us-east-1") == ("2", {})


def test_ctrl_c_during_terraform_apply_stops_terraform_cleanly_and_moves_no_traffic(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, world = null_release(aws_endpoint, tmp_path)
    log = tmp_path / "log"
    process = started(plan, aws_endpoint, log, "apply", "--yes", sleep=60)
    wait_until(lambda: "null_resource.api: create started" in log.read_text(), seconds=60)

    os.killpg(process.pid, signal.SIGINT)  # terraform runs in its own session: rollout tells it

    assert process.wait(60) == 1, log.read_text()  # no traffic moved anywhere
    assert "terraform apply cancelled" in log.read_text()
    assert world.lambda_routing("api-us-east-1") == ("1", {})
    assert not (tmp_path / "state" / "us-east-1" / ".terraform.tfstate.lock.info").exists()
    wait_until(lambda: not processes_working_in(tmp_path / "null_resources"), seconds=10)


def test_a_terraform_failure_in_one_region_lets_its_wave_finish_and_stops_the_next(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, worlds = null_release_in(aws_endpoint, tmp_path, REGIONS)
    text = (
        plan.read_text()
        .replace("terraform:\n", "waves: [[us-east-1, eu-west-1], [ap-south-1]]\nterraform:\n")
        .replace("release: v2", "release: v2, fail_in: us-east-1")
    )
    plan.write_text(text)

    result, events = apply_json(plan, aws_endpoint)

    assert result.exit_code == 4, result.stdout + result.stderr  # eu-west-1 was released
    assert worlds["eu-west-1"].lambda_routing("api-eu-west-1") == ("2", {})
    assert worlds["us-east-1"].lambda_routing("api-us-east-1") == ("1", {})
    assert worlds["ap-south-1"].lambda_routing("api-ap-south-1") == ("1", {})
    ended = {e["region"]: e for e in events if e["event"] == "region_finished"}
    assert ended["us-east-1"]["outcome"] == "failed_before_traffic"
    assert "local-exec provisioner error" in str(ended["us-east-1"]["message"])
    assert ended["ap-south-1"]["outcome"] == "skipped"
    errored = [e for e in events if e["event"] == "terraform_resource" and e["status"] == "errored"]
    assert [e["region"] for e in errored] == ["us-east-1"]
    assert any(e["event"] == "terraform_diagnostic" for e in events)


def test_the_regions_of_one_wave_run_terraform_side_by_side(
    aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, worlds = null_release_in(aws_endpoint, tmp_path, REGIONS)
    monkeypatch.setenv("TF_VAR_sleep", "2")  # each apply takes two seconds

    result, events = apply_json(plan, aws_endpoint)

    assert result.exit_code == 0, result.stdout + result.stderr
    kinds = [(e["event"], e["region"]) for e in events]
    first_finish = next(i for i, (kind, _) in enumerate(kinds) if kind == "region_finished")
    started = {region for kind, region in kinds[:first_finish] if kind == "terraform_resource"}
    assert started == set(REGIONS)  # every region's apply began before any region ended
    for region in REGIONS:
        state = json.loads((tmp_path / "state" / region / "terraform.tfstate").read_text())
        assert state["outputs"]["function_name"]["value"] == f"api-{region}"
        assert worlds[region].lambda_routing(f"api-{region}") == ("2", {})


def test_resume_force_says_which_regions_keep_the_terraform_applied_before_an_edit(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, world = killed_at_a_manual_pause(aws_endpoint, tmp_path)
    plan.write_text(plan.read_text().replace("release: v2", "release: v3"))

    resumed = started(plan, aws_endpoint, tmp_path / "resumed", "resume", "--force")
    wait_until(lambda: "paused" in (tmp_path / "resumed").read_text(), seconds=60)
    assert run_cli(["promote", "-f", str(plan), "--endpoint-url", aws_endpoint]).exit_code == 0

    assert resumed.wait(60) == 0, (tmp_path / "resumed").read_text()
    said = (tmp_path / "resumed").read_text()
    assert "the terraform section changed: us-east-1 keep what terraform applied before" in said
    assert world.lambda_routing("api-us-east-1") == ("2", {})


def test_ctrl_c_during_plan_stops_terraform_too(aws_endpoint: str, tmp_path: Path) -> None:
    plan, _worlds = terraform_release(aws_endpoint, tmp_path, ["us-east-1"])
    slow = tmp_path / "slow-terraform"
    slow.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = plan ]; then echo $$ > "{tmp_path}/planning"; sleep 60; fi\n'
        f'exec {terraform_binary()} "$@"\n'
    )
    slow.chmod(0o755)
    plan.write_text(plan.read_text().replace(f"binary: {terraform_binary()}", f"binary: {slow}"))
    process = started(plan, aws_endpoint, tmp_path / "log", "plan")
    wait_until((tmp_path / "planning").exists, seconds=60)

    os.killpg(process.pid, signal.SIGINT)

    assert process.wait(30) != 0
    planning = int((tmp_path / "planning").read_text())
    wait_until(lambda: not Path(f"/proc/{planning}").exists() or _zombie(planning), seconds=15)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True
