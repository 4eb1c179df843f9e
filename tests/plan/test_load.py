"""Loading whole plans: what a valid plan becomes, and how several problems are reported."""

from __future__ import annotations

import gc
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rollout.plan.errors import PlanInvalidError
from rollout.plan.load import MAX_PLAN_BYTES, load_plan
from rollout.plan.source import MAX_EXPANDED_NODES
from rollout.plan.strategy_spec import CanaryStrategy, DeploymentPreference, strategy_steps
from strategies import Shift
from tests.support import EXAMPLES, run_cli

PLAN = """\
version: 1
name: orders
regions: [us-east-1, eu-west-1]
targets:
  - name: api
    lambda: {function: orders-api, alias: live, code: {version: 7}}
    strategy: {type: canary, percent: 12.5, interval: 90s}
    alarms: ["api-errors-{region}"]
"""


def load_text(write_plan: Any, text: str) -> Any:
    return load_plan(write_plan(text)).plan


def test_a_valid_plan_reads_as_typed_values(write_plan: Any) -> None:
    plan = load_text(write_plan, PLAN)
    target = plan.targets[0]
    assert isinstance(target.strategy, CanaryStrategy)
    assert target.strategy.percent == Decimal("12.5")
    assert target.strategy.interval == timedelta(seconds=90)
    assert target.lambda_.code.version == "7"
    assert plan.wave_list() == [["us-east-1", "eu-west-1"]]
    assert plan.parallelism == 4
    assert plan.alarms.poll_interval == timedelta(seconds=10)


def test_every_problem_is_listed_in_line_order(write_plan: Any) -> None:
    path = write_plan(
        "version: 1\nname: orders\nregions: [us-east-1, narnia]\nparalelism: 2\n"
        "targets:\n  - name: api\n    lambda: {function: f, alias: live}\n"
        "    strategy: {type: canary, percent: 150, interval: 1m}\n"
    )
    with pytest.raises(PlanInvalidError) as raised:
        load_plan(path)
    lines = [str(error) for error in raised.value.errors]
    assert len(lines) == 3
    assert lines[0].startswith(f"{path}:3:") and "'narnia' is not an AWS region" in lines[0]
    assert lines[1] == f"{path}:4:1: paralelism: unknown key; did you mean 'parallelism'?"
    assert lines[2].startswith(f"{path}:8:") and "targets[0].strategy.percent" in lines[2]


def test_unknown_key_without_close_match_lists_the_valid_ones(write_plan: Any) -> None:
    with pytest.raises(PlanInvalidError) as raised:
        load_text(write_plan, PLAN + "alarms: {zzz: 1}\n")
    assert "valid keys here: poll_interval, insufficient_data, bake" in str(raised.value)


def test_cloudformation_shape_matches_aws_timing(write_plan: Any) -> None:
    text = PLAN.replace(
        "lambda: {function: orders-api, alias: live, code: {version: 7}}",
        "stepfunctions: {state_machine: flow, alias: prod}",
    ).replace(
        "{type: canary, percent: 12.5, interval: 90s}",
        "{type: LINEAR, percentage: 20, interval: 2}",
    )
    text = text.replace("api-errors", "flow-errors")
    plan = load_text(write_plan, text)
    spec = plan.targets[0].strategy
    assert isinstance(spec, DeploymentPreference)
    steps = strategy_steps(spec, bake=timedelta(0))
    assert [s.weight for s in steps if isinstance(s, Shift)] == [20, 40, 60, 80, 100]


def test_stepfunctions_target_with_whole_weights_is_fine(write_plan: Any) -> None:
    text = PLAN.replace(
        "lambda: {function: orders-api, alias: live, code: {version: 7}}",
        "stepfunctions: {state_machine: flow, alias: prod}",
    ).replace("percent: 12.5", "percent: 25")
    assert load_text(write_plan, text).targets[0].kind == "stepfunctions"


def test_target_reference_to_an_earlier_target_is_accepted(write_plan: Any) -> None:
    text = PLAN + (
        "  - name: flow\n"
        "    stepfunctions: {state_machine: 'flow-{targets.api.version}', alias: prod}\n"
        "    strategy: AllAtOnce\n"
        "    hooks:\n"
        "      after_traffic: {command: './smoke.sh {alias_arn} {version} {region}'}\n"
    )
    assert [t.name for t in load_text(write_plan, text).targets] == ["api", "flow"]


def test_promote_command_is_a_placeholder_of_the_on_pause_hook_only(write_plan: Any) -> None:
    notice = "    hooks:\n      on_pause: {http: 'https://chat.example.com/say?text={promote_command}'}\n"
    assert load_text(write_plan, PLAN + notice).targets[0].hooks.on_pause is not None

    misplaced = notice.replace("on_pause", "after_traffic")
    with pytest.raises(PlanInvalidError) as raised:
        load_text(write_plan, PLAN + misplaced)
    assert "unknown placeholder {promote_command}" in str(raised.value)
    assert ":10:" in str(raised.value)  # the line of the hook


def test_tf_placeholders_are_fine_with_a_terraform_stage(write_plan: Any) -> None:
    text = (
        PLAN.replace("function: orders-api", "function: '{tf.api_name}'")
        + "terraform: {dir: infra}\n"
    )
    assert load_text(write_plan, text).terraform.dir == "infra"


def test_full_example_reads_every_section() -> None:
    plan = load_plan(EXAMPLES / "full.yaml").plan
    assert plan.state.backend == "s3"
    assert plan.wave_list() == [["us-east-1"], ["eu-west-1", "ap-southeast-2"]]
    assert plan.targets[0].hooks.before_traffic.lambda_ == "api-smoke-test"
    assert plan.targets[0].hooks.before_traffic.timeout == timedelta(minutes=2)
    assert plan.targets[1].hooks.before_traffic.timeout == timedelta(minutes=5)
    assert plan.nginx.mappings[1].path == "/orders/"


def test_plan_paths_are_relative_to_the_plan_file() -> None:
    loaded = load_plan(EXAMPLES / "multi-region.yaml")
    assert loaded.base_dir == EXAMPLES
    assert Path(loaded.base_dir, loaded.plan.targets[1].stepfunctions.definition).is_file()


def test_a_large_plan_without_aliases_is_not_taken_for_an_alias_bomb(write_plan: Any) -> None:
    # A long allow-list handed to terraform: more values than the alias limit, none of them aliased.
    count = MAX_EXPANDED_NODES + 10_000
    cidrs = "".join(
        f'      - "10.{i // 65536}.{i // 256 % 256}.{i % 256}/32"\n' for i in range(count)
    )
    path = write_plan(PLAN + "terraform:\n  dir: infra\n  vars:\n    allowed_cidrs:\n" + cidrs)
    assert path.stat().st_size < MAX_PLAN_BYTES

    result = run_cli(["validate", "-f", str(path)])

    assert result.exit_code == 0, result.stderr
    assert "valid plan 'orders'" in result.stdout


@pytest.mark.parametrize(
    "name",
    [
        "orders.requests",
        "orders.history",
        "orders.lock",
        "orders.LOCK",
        "orders.json",
        "orders.jsonl",
    ],
)
def test_plan_name_ending_like_a_state_file_is_refused(write_plan: Any, name: str) -> None:
    path = write_plan(PLAN.replace("name: orders", f"name: {name}"))
    with pytest.raises(PlanInvalidError) as raised:
        load_plan(path)
    suffix = name[name.index(".") :].lower()
    assert str(raised.value).startswith(
        f"{path}:2:1: name: {name!r} ends in {suffix}, a suffix of rollout's own state files"
    )


@pytest.mark.parametrize("name", ["orders.v2", "orders-lock", "lockbox", "orders.json-api"])
def test_plan_name_merely_mentioning_a_state_suffix_is_fine(write_plan: Any, name: str) -> None:
    assert load_text(write_plan, PLAN.replace("name: orders", f"name: {name}")).name == name


LAMBDA_TARGET = "lambda: {function: orders-api, alias: live, code: {version: 7}}"
STEPFUNCTIONS_TARGET = "stepfunctions: {state_machine: flow, alias: live}"


def plan_with_alias(target: str, alias: str) -> str:
    """PLAN with its target replaced by `target` using `alias`, and whole-number weights."""
    written = target.replace("alias: live", f"alias: {alias}")
    return PLAN.replace(LAMBDA_TARGET, written).replace("percent: 12.5", "percent: 25")


@pytest.mark.parametrize("target", [LAMBDA_TARGET, STEPFUNCTIONS_TARGET], ids=["lambda", "sfn"])
@pytest.mark.parametrize(
    ("alias", "message"),
    [
        ("$LATEST", "'$LATEST' is not an alias: an alias on $LATEST moves all of its traffic"),
        ("$latest", "'$latest' is not an alias (a name beginning with $ stands for $LATEST)"),
        ("'007'", "'007' is a version number, not an alias"),
        ("12", "'12' is a version number, not an alias"),
    ],
)
def test_alias_on_latest_or_a_version_number_is_refused(
    write_plan: Any, target: str, alias: str, message: str
) -> None:
    path = write_plan(plan_with_alias(target, alias))
    with pytest.raises(PlanInvalidError) as raised:
        load_plan(path)
    (error,) = raised.value.errors
    kind = target.split(":", maxsplit=1)[0]
    assert str(error).startswith(f"{path}:6:")
    assert f"targets[0].{kind}.alias: {message}" in str(error)
    assert str(error).endswith("name an alias (such as live) that points at a published version")


@pytest.mark.parametrize("target", [LAMBDA_TARGET, STEPFUNCTIONS_TARGET], ids=["lambda", "sfn"])
@pytest.mark.parametrize("alias", ["live-{region}", "v2", "prod_2", "{tf.alias_name}"])
def test_alias_names_with_placeholders_or_digits_among_letters_are_fine(
    write_plan: Any, target: str, alias: str
) -> None:
    text = plan_with_alias(target, f"'{alias}'") + "terraform: {dir: infra}\n"
    target_plan = load_text(write_plan, text).targets[0]
    assert (target_plan.lambda_ or target_plan.stepfunctions).alias == alias


def test_split_alias_and_wave_failure_policies_default_to_the_cautious_choice(
    write_plan: Any,
) -> None:
    plan = load_text(write_plan, PLAN)
    assert (plan.on_split_alias, plan.on_wave_failure) == ("refuse", "keep")


def test_split_alias_and_wave_failure_policies_read_as_written(write_plan: Any) -> None:
    plan = load_text(write_plan, PLAN + "on_split_alias: replace\non_wave_failure: rollback\n")
    assert (plan.on_split_alias, plan.on_wave_failure) == ("replace", "rollback")


@pytest.mark.parametrize(
    ("written", "meant"),
    [("on_split_alais", "on_split_alias"), ("on_wave_failures", "on_wave_failure")],
)
def test_misspelt_policy_key_suggests_the_right_one(
    write_plan: Any, written: str, meant: str
) -> None:
    path = write_plan(PLAN + f"{written}: rollback\n")
    with pytest.raises(PlanInvalidError) as raised:
        load_plan(path)
    assert str(raised.value) == f"{path}:9:1: {written}: unknown key; did you mean {meant!r}?"


def test_the_garbage_collector_runs_again_after_a_plan_is_read(write_plan: Any) -> None:
    # Reading pauses it for speed; a plan that fails must not leave it off for the run.
    load_text(write_plan, PLAN)
    assert gc.isenabled()
    with pytest.raises(PlanInvalidError):
        load_text(write_plan, "version: 1\nname: [")
    assert gc.isenabled()
