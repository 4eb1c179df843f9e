"""The terraform adapter against the real binary, on configurations that need no provider."""

from __future__ import annotations

import stat
import tempfile
import threading
import time
from pathlib import Path

import pytest

from rollout.terraform.cli import (
    TerraformCli,
    TerraformError,
    TerraformSettings,
    binary_version,
)
from rollout.terraform.messages import ChangeSummary, Diagnostic, Message, ResourceProgress
from tests.terraform.support import config_copy, null_plugin_dir, terraform_binary


def region_cli(
    config: Path,
    tmp_path: Path,
    region: str,
    seen: list[Message],
    cancelled: threading.Event | None = None,
    **settings: object,
) -> TerraformCli:
    options: dict[str, object] = {
        "binary": terraform_binary(),
        "dir": config,
        "backend_config": {"path": str(tmp_path / "state" / region / "terraform.tfstate")},
        "vars": {"region": region},
        **settings,
    }
    return TerraformCli(
        TerraformSettings(**options),  # type: ignore[arg-type]
        tmp_path / "data" / region,
        on_message=seen.append,
        cancelled=(cancelled or threading.Event()).is_set,
    )


def plans_in(folder: Path) -> Path:
    """A private folder for saved plans, inside the test's own (nothing left in /tmp)."""
    return Path(tempfile.mkdtemp(prefix="plans-", dir=folder))


def test_the_installed_binary_is_recent_enough() -> None:
    assert binary_version(terraform_binary()) >= (1, 0)


def test_a_missing_binary_is_a_clear_error() -> None:
    with pytest.raises(TerraformError, match="'no-such-terraform' not found on PATH"):
        binary_version("no-such-terraform")


def test_plan_apply_then_a_second_plan_with_nothing_to_change(tmp_path: Path) -> None:
    config = config_copy("outputs", tmp_path)
    seen: list[Message] = []
    cli = region_cli(
        config, tmp_path, "us-east-1", seen, vars={"region": "us-east-1", "sizes": [1, 2]}
    )
    cli.init()

    plans = plans_in(tmp_path)
    saved = cli.plan(plans)
    assert saved.changes
    # Saved plans hold secrets in clear text: private folder, private file.
    assert stat.S_IMODE(plans.stat().st_mode) == 0o700
    assert stat.S_IMODE(saved.path.stat().st_mode) == 0o600
    cli.apply(saved)
    assert not saved.path.exists()  # applied exactly once, then gone

    outputs = cli.outputs()
    assert outputs["function_name"].text == "api-us-east-1"
    assert outputs["sizes"].text == "[1, 2]"
    assert outputs["token"].sensitive and not outputs["function_name"].sensitive
    again = cli.plan(plans_in(tmp_path))
    assert not again.changes
    assert any(isinstance(m, ChangeSummary) and m.operation == "plan" for m in seen)


def test_regions_of_one_dir_run_side_by_side_each_with_its_own_state(tmp_path: Path) -> None:
    config = config_copy("outputs", tmp_path)
    regions = ["us-east-1", "eu-west-1", "ap-south-1"]
    found: dict[str, str] = {}

    def release(region: str) -> None:
        cli = region_cli(config, tmp_path, region, [], vars={"region": region})
        cli.init()
        cli.apply(cli.plan(plans_in(tmp_path)))
        found[region] = cli.outputs()["function_name"].text

    threads = [threading.Thread(target=release, args=(region,)) for region in regions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert found == {region: f"api-{region}" for region in regions}
    assert not (config / ".terraform").exists()  # nothing shared written beside the config
    for region in regions:
        assert (tmp_path / "state" / region / "terraform.tfstate").exists()


def test_a_workspace_is_selected_or_created_per_region(tmp_path: Path) -> None:
    config = config_copy("outputs", tmp_path)
    for _ in range(2):  # created the first time, selected the second
        cli = region_cli(
            config,
            tmp_path,
            "us-east-1",
            [],
            workspace="blue",
            backend_config={
                "path": str(tmp_path / "state" / "terraform.tfstate"),
                "workspace_dir": str(tmp_path / "state" / "workspaces"),
            },
        )
        cli.init()
        cli.apply(cli.plan(plans_in(tmp_path)))
    assert (tmp_path / "state" / "workspaces" / "blue" / "terraform.tfstate").exists()


def test_a_configuration_error_is_one_line_with_file_and_line(tmp_path: Path) -> None:
    config = config_copy("outputs", tmp_path)
    (config / "broken.tf").write_text('output "x" {\n  value = var.nowhere\n}\n')
    seen: list[Message] = []
    cli = region_cli(config, tmp_path, "us-east-1", seen)
    cli.init()

    with pytest.raises(TerraformError) as raised:
        cli.plan(plans_in(tmp_path))

    assert "broken.tf:2: Reference to undeclared input variable" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert any(isinstance(m, Diagnostic) and m.filename == "broken.tf" for m in seen)


def test_an_old_terraform_is_refused_by_its_version(tmp_path: Path) -> None:
    old = tmp_path / "terraform"
    old.write_text("#!/bin/sh\necho 'Terraform v0.12.31'\n")  # no `version -json` yet
    old.chmod(0o755)
    with pytest.raises(TerraformError, match=r"is terraform 0\.12\.31; rollout needs 1\.0"):
        binary_version(str(old))


def test_a_state_locked_by_another_terraform_names_the_lock_and_how_to_release_it(
    tmp_path: Path,
) -> None:
    config = config_copy("null_resources", tmp_path)
    state = {"path": str(tmp_path / "state" / "terraform.tfstate")}
    plugins = null_plugin_dir(tmp_path)
    progress: list[Message] = []
    stop = threading.Event()
    first = region_cli(
        config,
        tmp_path,
        "first",
        progress,
        stop,
        backend_config=state,
        plugin_dir=plugins,
        vars={"region": "us-east-1", "sleep": 20},
    )
    first.init()
    ended: list[Exception] = []

    def hold() -> None:
        try:
            first.apply(first.plan(plans_in(tmp_path)))
        except TerraformError as exc:
            ended.append(exc)

    holding = threading.Thread(target=hold)
    holding.start()
    lock = tmp_path / "state" / ".terraform.tfstate.lock.info"
    deadline = time.monotonic() + 60
    # The apply is under way (its plan held the lock only for a moment).
    while not any(isinstance(m, ResourceProgress) for m in progress):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    second = region_cli(
        config,
        tmp_path,
        "second",
        [],
        backend_config=state,
        plugin_dir=plugins,
        vars={"region": "us-east-1"},
    )
    second.init()

    with pytest.raises(TerraformError) as raised:
        second.plan(plans_in(tmp_path))

    stop.set()  # SIGINT: terraform stops and releases its lock
    holding.join(90)
    message = str(raised.value)
    assert "Error acquiring the state lock" in message
    assert "`terraform force-unlock " in message and str(config) in message
    assert not lock.exists()
    assert [str(e) for e in ended] == ["terraform apply cancelled"]
