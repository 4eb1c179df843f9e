"""`rollout apply` as a user runs it, against moto's server over real HTTP.

Intervals are fractions of a second; an AliasWatcher samples what AWS reports
for the alias while the rollout runs, so the tests see the real routing.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tests.e2e.world import AliasWatcher, World, code_zip
from tests.support import CliResult, run_cli

FAST = "alarms: {poll_interval: 0.1s, bake: 0.2s}\n"


def lambda_plan(
    tmp_path: Path,
    strategy: str,
    *,
    body: str = "v2",
    extra: str = "",
    alarms: str = "[api-errors]",
) -> Path:
    (tmp_path / f"{body}.zip").write_bytes(code_zip(body))
    plan = tmp_path / "rollout.yaml"
    plan.write_text(
        "version: 1\nname: e2e\nregions: [us-east-1]\ntargets:\n"
        "  - name: api\n"
        f"    lambda: {{function: api, alias: live, code: {{zip: {body}.zip}}}}\n"
        f"    strategy: {strategy}\n"
        f"    alarms: {alarms}\n"
        f"{extra}" + FAST,
        encoding="utf-8",
    )
    return plan


def apply(plan: Path, endpoint: str, *more: str) -> CliResult:
    return run_cli(["apply", "--yes", "-f", str(plan), "--endpoint-url", endpoint, *more])


def shifted_weights(result: CliResult) -> list[float]:
    events = [json.loads(line) for line in result.stdout.splitlines()]
    return [e["weight"] for e in events if e["event"] == "weight_shifted"]


def test_canary_moves_traffic_through_the_canary_weight_to_the_new_version(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    plan = lambda_plan(tmp_path, "{type: canary, percent: 10, interval: 0.6s}")

    with AliasWatcher(lambda: world.lambda_routing("api")) as watcher:
        result = apply(plan, aws_endpoint, "--output", "json")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert watcher.seen == [("1", {}), ("1", {"2": Decimal("10.00")}), ("2", {})]
    assert shifted_weights(result) == [10.0, 100.0]


def test_linear_passes_every_intermediate_weight(aws_endpoint: str, tmp_path: Path) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    plan = lambda_plan(tmp_path, "{type: linear, percent: 25, interval: 0.4s}")

    with AliasWatcher(lambda: world.lambda_routing("api")) as watcher:
        result = apply(plan, aws_endpoint)

    assert result.exit_code == 0, result.stdout + result.stderr
    assert watcher.seen == [
        ("1", {}),
        ("1", {"2": Decimal("25.00")}),
        ("1", {"2": Decimal("50.00")}),
        ("1", {"2": Decimal("75.00")}),
        ("2", {}),
    ]
    assert "rollout succeeded (exit 0)" in result.stdout


def test_alarm_mid_linear_rolls_back_to_the_exact_recorded_routing(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    world.function("api")
    # The alias starts mid-way through an older release: 1 with 5% on 0... use 2 versions.
    world.lam.update_function_code(FunctionName="api", ZipFile=code_zip("v1b"))
    world.lam.publish_version(FunctionName="api")
    world.lam.update_alias(
        FunctionName="api",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.05}},
    )
    recorded = world.lambda_routing("api")
    world.alarm("api-errors")
    plan = lambda_plan(tmp_path, "{type: linear, percent: 20, interval: 0.5s}", body="v3")
    # An alias split by an older release is released from only when the plan says so.
    plan.write_text(plan.read_text() + "on_split_alias: replace\n")

    def flip(routing: tuple[str, dict[str, Decimal]]) -> None:
        if routing[1].get("3") == Decimal("40.00"):
            world.set_alarm("api-errors", "ALARM", "Threshold Crossed: 3 errors > 1")

    with AliasWatcher(lambda: world.lambda_routing("api"), on_change=flip) as watcher:
        result = apply(plan, aws_endpoint)

    assert result.exit_code == 3, result.stdout + result.stderr
    assert world.lambda_routing("api") == recorded
    assert max(r[1].get("3", Decimal(0)) for r in watcher.seen) == Decimal("40.00")
    why = "alarm api-errors (ALARM: Threshold Crossed: 3 errors > 1)"
    assert f"rolling back: {why}" in result.stdout
    # The last line says why too, for whoever reads only the end of a CI log.
    last = result.stdout.splitlines()[-1]
    assert "rollout rolled back (exit 3)" in last and why in last


def test_alarm_already_in_alarm_refuses_before_publishing(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors", "ALARM")

    result = apply(lambda_plan(tmp_path, "Canary10Percent5Minutes"), aws_endpoint)

    assert result.exit_code == 1
    assert "error: us-east-1: alarm api-errors is in ALARM: no traffic may move" in result.stderr
    assert world.versions("api") == ["1"]


def test_missing_alarm_fails_before_anything_is_published(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")

    plan = lambda_plan(tmp_path, "Canary10Percent5Minutes", alarms="[api-errors, api-p99]")
    result = apply(plan, aws_endpoint)

    assert result.exit_code == 1
    assert "error: us-east-1: watched alarm api-p99 does not exist" in result.stderr
    assert world.versions("api") == ["1"]


def test_failing_before_traffic_hook_keeps_blue_green_at_zero(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    hooks = "    hooks:\n      before_traffic: {command: 'echo smoke test failed; exit 1'}\n"
    plan = lambda_plan(tmp_path, "blue_green", extra=hooks)

    with AliasWatcher(lambda: world.lambda_routing("api")) as watcher:
        result = apply(plan, aws_endpoint)

    assert result.exit_code == 3
    assert watcher.seen == [("1", {})]
    assert "before_traffic hook command echo smoke test failed; exit 1 FAILED" in result.stdout


def test_rerun_of_a_finished_release_is_nothing_to_do(aws_endpoint: str, tmp_path: Path) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    plan = lambda_plan(tmp_path, "AllAtOnce")

    assert apply(plan, aws_endpoint).exit_code == 0
    again = apply(plan, aws_endpoint)

    assert again.exit_code == 0
    assert "nothing to publish" in again.stdout
    assert world.versions("api") == ["1", "2"]


def test_first_deploy_creates_the_alias(aws_endpoint: str, tmp_path: Path) -> None:
    world = World(aws_endpoint)
    world.function("api", alias=None)
    world.alarm("api-errors")

    result = apply(lambda_plan(tmp_path, "Canary10Percent5Minutes"), aws_endpoint)

    assert result.exit_code == 0, result.stdout
    assert world.lambda_routing("api") == ("2", {})
    assert "created alias" in result.stdout


def test_drift_mid_rollout_exits_4_without_overwriting(aws_endpoint: str, tmp_path: Path) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    plan = lambda_plan(tmp_path, "{type: linear, percent: 20, interval: 0.5s}")
    meddled = []

    def meddle(routing: tuple[str, dict[str, Decimal]]) -> None:
        if routing[1].get("2") == Decimal("20.00") and not meddled:
            meddled.append(True)
            world.lam.update_alias(
                FunctionName="api",
                Name="live",
                FunctionVersion="1",
                RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
            )

    with AliasWatcher(lambda: world.lambda_routing("api"), on_change=meddle):
        result = apply(plan, aws_endpoint)

    assert result.exit_code == 4, result.stdout
    assert world.lambda_routing("api") == ("1", {"2": Decimal("50.00")})
    assert "DRIFT" in result.stdout


def test_two_targets_in_one_region_roll_back_together(aws_endpoint: str, tmp_path: Path) -> None:
    world = World(aws_endpoint)
    world.function("api")
    machine = world.state_machine("flow")
    world.alarm("api-errors")
    world.alarm("flow-failures")
    (tmp_path / "v2.zip").write_bytes(code_zip("v2"))
    (tmp_path / "flow.asl.json").write_text(
        json.dumps(
            {
                "StartAt": "Call",
                "States": {
                    "Call": {"Type": "Task", "Resource": "{targets.api.version_arn}", "End": True}
                },
            }
        ),
        encoding="utf-8",
    )
    plan = tmp_path / "rollout.yaml"
    plan.write_text(
        "version: 1\nname: e2e\nregions: [us-east-1]\ntargets:\n"
        "  - name: api\n    lambda: {function: api, alias: live, code: {zip: v2.zip}}\n"
        "    strategy: {type: canary, percent: 10, interval: 0.3s}\n    alarms: [api-errors]\n"
        "  - name: flow\n"
        "    stepfunctions: {state_machine: flow, alias: prod, definition: flow.asl.json}\n"
        "    strategy: {type: linear, percent: 20, interval: 0.5s}\n    alarms: [flow-failures]\n"
        + FAST,
        encoding="utf-8",
    )

    def flip(routing: dict[str, int]) -> None:
        if routing.get("2") == 60:
            world.set_alarm("flow-failures", "ALARM")

    with AliasWatcher(lambda: world.sfn_routing(machine), on_change=flip) as flow_seen:
        result = apply(plan, aws_endpoint)

    assert result.exit_code == 3, result.stdout
    assert world.lambda_routing("api") == ("1", {})
    assert world.sfn_routing(machine) == {"1": 100}
    assert {"1": 60, "2": 40} in flow_seen.seen or {"1": 40, "2": 60} in flow_seen.seen
    published = json.loads(
        world.sfn.describe_state_machine(stateMachineArn=f"{machine}:2")["definition"]
    )
    assert published["States"]["Call"]["Resource"].endswith(":function:api:2")


def two_waves(tmp_path: Path, strategy: str, extra: str = "") -> Path:
    (tmp_path / "v2.zip").write_bytes(code_zip("v2"))
    plan = tmp_path / "rollout.yaml"
    plan.write_text(
        "version: 1\nname: e2e\nregions: [us-east-1, eu-west-1]\n"
        "waves: [[us-east-1], [eu-west-1]]\ntargets:\n"
        "  - name: api\n    lambda: {function: api, alias: live, code: {zip: v2.zip}}\n"
        f"    strategy: {strategy}\n    alarms: ['api-errors-{{region}}']\n" + FAST + extra,
        encoding="utf-8",
    )
    return plan


def east_and_west(endpoint: str) -> tuple[World, World]:
    east, west = World(endpoint, "us-east-1"), World(endpoint, "eu-west-1")
    for world in (east, west):
        world.function("api")
        world.alarm(f"api-errors-{world.region}")
    return east, west


def test_an_alarm_firing_in_the_second_wave_stops_the_release_before_the_first_moves(
    aws_endpoint: str, tmp_path: Path
) -> None:
    east, west = east_and_west(aws_endpoint)
    west.set_alarm("api-errors-eu-west-1", "ALARM")

    result = apply(two_waves(tmp_path, "AllAtOnce"), aws_endpoint)

    assert result.exit_code == 1, result.stdout + result.stderr
    assert "error: eu-west-1: alarm api-errors-eu-west-1 is in ALARM" in result.stderr
    assert east.lambda_routing("api") == ("1", {}) and east.versions("api") == ["1"]
    assert west.lambda_routing("api") == ("1", {}) and west.versions("api") == ["1"]


def alarm_when_west_splits(west: World) -> AliasWatcher:
    def flip(routing: tuple[str, dict[str, Decimal]]) -> None:
        if routing[1]:
            west.set_alarm("api-errors-eu-west-1", "ALARM")

    return AliasWatcher(lambda: west.lambda_routing("api"), on_change=flip)


def test_a_later_wave_failing_after_an_earlier_one_released_needs_a_human(
    aws_endpoint: str, tmp_path: Path
) -> None:
    east, west = east_and_west(aws_endpoint)
    plan = two_waves(tmp_path, "{type: linear, percent: 50, interval: 0.5s}")

    with alarm_when_west_splits(west):
        result = apply(plan, aws_endpoint, "--output", "json")

    assert result.exit_code == 4, result.stdout + result.stderr
    assert east.lambda_routing("api") == ("2", {})  # kept: on_wave_failure defaults to keep
    assert west.lambda_routing("api") == ("1", {})
    finished = json.loads(result.stdout.splitlines()[-1])
    assert finished["event"] == "rollout_finished" and finished["exit_code"] == 4
    assert "us-east-1 succeeded (api serves 2: 100%)" in finished["message"]
    assert "eu-west-1 rolled back (api serves 1: 100%)" in finished["message"]
    assert f"rollout rollback -f {plan}" in finished["message"]
    assert f"rollout apply -f {plan}" in finished["message"]


def test_on_wave_failure_rollback_puts_earlier_waves_back_too(
    aws_endpoint: str, tmp_path: Path
) -> None:
    east, west = east_and_west(aws_endpoint)
    plan = two_waves(
        tmp_path, "{type: linear, percent: 50, interval: 0.5s}", "on_wave_failure: rollback\n"
    )

    with alarm_when_west_splits(west):
        result = apply(plan, aws_endpoint)

    assert result.exit_code == 3, result.stdout + result.stderr
    assert east.lambda_routing("api") == ("1", {})
    assert west.lambda_routing("api") == ("1", {})
    assert "us-east-1: region rolled back: another region failed" in result.stdout
