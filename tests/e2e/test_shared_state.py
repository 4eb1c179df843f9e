"""The shared state backend on moto: documents in S3, the lock a DynamoDB conditional write."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from rollout.state.model import LockHolder
from rollout.state.s3_store import S3StateStore
from rollout.state.store import LockHeldError, StateError
from tests.e2e.test_apply import lambda_plan
from tests.e2e.test_state_and_signals import start_apply
from tests.e2e.world import World
from tests.faultproxy import Faults, fault_proxy
from tests.processes import rollout_command, wait_until
from tests.support import run_cli

STATE = "state: {backend: s3, bucket: rollout-state, lock_table: rollout-locks, prefix: teams/a}\n"


def shared(endpoint: str, *, create: bool = True) -> S3StateStore:
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint)
    dynamodb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint)
    if create:
        s3.create_bucket(Bucket="rollout-state")
        dynamodb.create_table(
            TableName="rollout-locks",
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    return S3StateStore(
        s3, dynamodb, bucket="rollout-state", prefix="teams/a", lock_table="rollout-locks"
    )


def released_with_shared_state(endpoint: str, folder: Path) -> tuple[World, Path]:
    """A function and its alarm, and an all-at-once plan that keeps its state in S3."""
    world = World(endpoint)
    world.function("api")
    world.alarm("api-errors")
    plan = lambda_plan(folder, "AllAtOnce")
    plan.write_text(plan.read_text() + STATE)
    return world, plan


def holder(rollout_id: str, pid: int = 1) -> LockHolder:
    return LockHolder(user="ci", host="elsewhere", pid=pid, rollout_id=rollout_id)


def test_the_dynamodb_lock_admits_one_holder_at_a_time(aws_endpoint: str) -> None:
    store = shared(aws_endpoint)
    store.acquire_lock("orders", holder("first"))
    with pytest.raises(LockHeldError) as raised:
        store.acquire_lock("orders", holder("second"))
    assert raised.value.holder.rollout_id == "first" and not raised.value.dead

    store.release_lock("orders", holder("second"))  # not the holder: nothing happens
    assert store.lock_holder("orders").rollout_id == "first"  # type: ignore[union-attr]
    store.release_lock("orders", holder("first"))
    store.acquire_lock("orders", holder("second"))
    assert store.break_lock("orders").rollout_id == "second"  # type: ignore[union-attr]
    assert store.lock_holder("orders") is None


def test_an_abort_in_s3_survives_a_promote_that_read_before_it(aws_endpoint: str) -> None:
    store = shared(aws_endpoint)
    read_by_promote = store.read_requests("orders")
    store.request_abort("orders")
    store.write_requests("orders", read_by_promote.model_copy(update={"promote_full": True}))

    requests = store.read_requests("orders")
    assert requests.abort and requests.promote_full
    store.clear_requests("orders")
    assert not store.read_requests("orders").abort


def test_apply_with_shared_state_records_in_s3_and_refuses_a_second_apply(
    aws_endpoint: str, tmp_path: Path
) -> None:
    store = shared(aws_endpoint)
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    plan = lambda_plan(tmp_path, "{type: canary, percent: 10, interval: 30s}", extra="")
    plan.write_text(plan.read_text() + STATE)
    process = start_apply(plan, aws_endpoint, tmp_path / "log")
    try:
        wait_until(lambda: store.lock_holder("e2e") is not None and store.read("e2e") is not None)
        second = run_cli(["apply", "--yes", "-f", str(plan), "--endpoint-url", aws_endpoint])
        assert second.exit_code == 4
        assert f"pid {process.pid}" in second.stderr
    finally:
        os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(30) == 3
    assert store.read("e2e").status == "rolled_back"  # type: ignore[union-attr]
    assert store.lock_holder("e2e") is None
    listed = run_cli(["history", "-f", str(plan), "--endpoint-url", aws_endpoint])
    assert "rolled_back" in listed.stdout and "us-east-1: SIGTERM received" in listed.stdout


def test_rollback_stops_waiting_for_a_holder_on_another_host_that_went_silent(
    aws_endpoint: str, tmp_path: Path
) -> None:
    # A cancelled CI runner: its lock stays in DynamoDB and its pid means nothing here.
    store = shared(aws_endpoint)
    _world, plan = released_with_shared_state(aws_endpoint, tmp_path)
    ten_minutes_ago = datetime.now(timezone.utc) - timedelta(minutes=10)
    store.acquire_lock("e2e", holder("gone").model_copy(update={"refreshed_at": ten_minutes_ago}))

    result = run_cli(["rollback", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert result.exit_code == 4
    assert re.search(r"went silent \(ci@elsewhere .*not heard from for 60\ds\)", result.stderr)
    assert "`rollout unlock --force`, then `rollout rollback`" in result.stderr
    assert store.lock_holder("e2e") is not None  # nothing broken behind the operator's back


def test_a_missing_state_bucket_is_a_clear_error(aws_endpoint: str, tmp_path: Path) -> None:
    shared(aws_endpoint, create=False)
    world, plan = released_with_shared_state(aws_endpoint, tmp_path)

    result = run_cli(["apply", "--yes", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert result.exit_code == 1
    assert "does not exist (create it first)" in result.stderr
    assert world.versions("api") == ["1"]


def test_an_apply_that_fails_before_traffic_on_a_missing_bucket_releases_its_lock(
    aws_endpoint: str, tmp_path: Path
) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=aws_endpoint)
    dynamodb.create_table(
        TableName="rollout-locks",
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    _, plan = released_with_shared_state(aws_endpoint, tmp_path)

    result = run_cli(["apply", "--yes", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert result.exit_code == 1
    assert "the state bucket 'rollout-state' does not exist" in result.stderr
    assert dynamodb.scan(TableName="rollout-locks")["Items"] == []


def test_a_damaged_document_in_the_bucket_is_one_error_naming_its_key(
    aws_endpoint: str, tmp_path: Path
) -> None:
    store = shared(aws_endpoint)
    store.s3.put_object(Bucket="rollout-state", Key="teams/a/e2e/state.json", Body=b'{"id": "x"')
    plan = lambda_plan(tmp_path, "AllAtOnce")
    plan.write_text(plan.read_text() + STATE)

    result = run_cli(["status", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert result.exit_code == 1
    assert "s3://rollout-state/teams/a/e2e/state.json is not readable" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_store_that_does_not_answer_is_a_state_error(tmp_path: Path) -> None:
    silent = "http://127.0.0.1:9"  # nothing listens: connection refused
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=silent)
    dynamodb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=silent)
    store = S3StateStore(s3, dynamodb, bucket="b", prefix="", lock_table="t")

    with pytest.raises(StateError, match=r"reading s3://b/orders/state.json .* failed: Could not"):
        store.read("orders")
    with pytest.raises(StateError, match="reading the lock failed"):
        store.lock_holder("orders")


def test_unlock_shows_and_breaks_an_empty_lock_file(tmp_path: Path) -> None:
    plan = lambda_plan(tmp_path, "AllAtOnce")
    (tmp_path / ".rollout").mkdir()
    (tmp_path / ".rollout" / "e2e.lock").write_text("")

    shown = run_cli(["unlock", "-f", str(plan)])
    broken = run_cli(["unlock", "--force", "-f", str(plan)])

    assert shown.exit_code == 1
    assert "is empty: a process may have died while taking the lock" in shown.stderr
    assert broken.exit_code == 0 and "lock broken" in broken.stdout
    assert not (tmp_path / ".rollout" / "e2e.lock").exists()


def test_rollback_does_not_wait_on_a_damaged_lock_file(tmp_path: Path) -> None:
    plan = lambda_plan(tmp_path, "AllAtOnce")
    (tmp_path / ".rollout").mkdir()
    (tmp_path / ".rollout" / "e2e.lock").write_text("{half")

    result = run_cli(["rollback", "-f", str(plan)])  # at once, not after 600 s

    assert result.exit_code == 4
    assert "unreadable: a process may have died while taking the lock" in result.stderr
    assert "rollout unlock --force" in result.stderr


def test_s3_and_dynamodb_going_away_mid_shift_roll_traffic_back_from_memory(
    aws_endpoint: str, tmp_path: Path
) -> None:
    store = shared(aws_endpoint)
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    plan = lambda_plan(tmp_path, "{type: canary, percent: 10, interval: 30s}")
    plan.write_text(plan.read_text() + STATE)
    faults = Faults()
    with fault_proxy(aws_endpoint, faults) as proxy:
        process = subprocess.Popen(
            rollout_command("apply", plan, proxy, "--yes", "--output", "json"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        wait_until(lambda: world.lambda_routing("api") == ("1", {"2": Decimal("10.00")}))
        wait_until(lambda: store.read("e2e").regions["us-east-1"].targets["api"].step >= 1)  # type: ignore[union-attr]
        faults.store_down.set()
        out, errors = process.communicate(timeout=120)

    finished = json.loads(out.decode().splitlines()[-1])
    assert process.returncode == 4, errors.decode()
    assert finished["event"] == "rollout_finished" and finished["exit_code"] == 4
    assert "state store" in finished["message"] and "alias_restored" in out.decode()
    assert world.lambda_routing("api") == ("1", {})
    assert faults.counts  # the proxy carried the release


def test_the_fault_proxy_can_take_the_state_store_away_and_leave_the_rest(
    aws_endpoint: str,
) -> None:
    shared(aws_endpoint)
    World(aws_endpoint).function("api")
    faults = Faults()
    with fault_proxy(aws_endpoint, faults) as proxy:
        faults.store_down.set()
        through = shared(proxy, create=False)
        lam = boto3.client("lambda", region_name="us-east-1", endpoint_url=proxy)

        assert lam.get_alias(FunctionName="api", Name="live")["FunctionVersion"] == "1"
        with pytest.raises(ClientError, match="ServiceUnavailable"):
            through.s3.put_object(Bucket="rollout-state", Key="x", Body=b"x")
        with pytest.raises(ClientError, match="ServiceUnavailable"):
            through.dynamodb.get_item(TableName="rollout-locks", Key={"LockID": {"S": "x"}})


def test_a_running_rollout_takes_its_lock_item_again_or_is_told_another_took_it(
    aws_endpoint: str,
) -> None:
    store = shared(aws_endpoint)
    store.acquire_lock("orders", holder("running"))
    store.break_lock("orders")  # an item deleted from the table by hand

    store.refresh_lock("orders", holder("running"))

    assert store.lock_holder("orders").rollout_id == "running"  # type: ignore[union-attr]
    store.break_lock("orders")
    store.acquire_lock("orders", holder("other"))
    with pytest.raises(StateError, match="lost the lock 'orders' in 'rollout-locks': now held by"):
        store.refresh_lock("orders", holder("running"))


def test_breaking_a_dead_holders_lock_leaves_one_another_taker_took_since(
    aws_endpoint: str,
) -> None:
    store = shared(aws_endpoint)
    store.acquire_lock("orders", holder("crashed"))
    crashed = store.lock_holder("orders")  # what each taker saw when it judged the holder dead
    store.break_lock("orders", only=crashed)
    store.acquire_lock("orders", holder("first-taker"))

    with pytest.raises(LockHeldError):
        store.break_lock("orders", only=crashed)  # the second taker, too late

    assert store.lock_holder("orders").rollout_id == "first-taker"  # type: ignore[union-attr]
