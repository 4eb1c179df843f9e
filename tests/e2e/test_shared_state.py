"""The shared state backend on moto: documents in S3, the lock a DynamoDB conditional write."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import boto3
import pytest

from rollout.state.model import LockHolder
from rollout.state.s3_store import S3StateStore
from rollout.state.store import LockHeldError
from tests.e2e.test_apply import lambda_plan
from tests.e2e.test_state_and_signals import start_apply, wait_until
from tests.e2e.world import World
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
    assert "rolled_back (us-east-1: rolled_back)" in listed.stdout


def test_a_missing_state_bucket_is_a_clear_error(aws_endpoint: str, tmp_path: Path) -> None:
    shared(aws_endpoint, create=False)
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    plan = lambda_plan(tmp_path, "AllAtOnce")
    plan.write_text(plan.read_text() + STATE)

    result = run_cli(["apply", "--yes", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert result.exit_code == 1
    assert "does not exist (create it first)" in result.stderr
    assert world.versions("api") == ["1"]
