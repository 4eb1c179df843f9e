"""The local state backend: atomic private files, and a lock that names its holder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from rollout.state.model import LockHolder, Requests, RolloutRecord, RolloutStatus
from rollout.state.store import LocalStateStore, LockHeldError


def holder(rollout_id: str, pid: int | None = None) -> LockHolder:
    return LockHolder(
        user="me", host=socket.gethostname(), pid=pid or os.getpid(), rollout_id=rollout_id
    )


def test_documents_are_written_whole_and_private(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / ".rollout")
    record = RolloutRecord(id="abc", plan="orders", plan_hash="h")
    store.write(record)
    store.write(record.model_copy(update={"status": RolloutStatus.SUCCEEDED}))

    assert store.read("orders").status == "succeeded"  # type: ignore[union-attr]
    path = tmp_path / ".rollout" / "orders.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["orders.json"]  # no temp files left


def test_requests_are_kept_apart_from_the_document(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    store.write_requests("orders", Requests(abort=True))
    store.write(RolloutRecord(id="abc", plan="orders", plan_hash="h"))
    assert store.read_requests("orders").abort


def test_a_held_lock_names_its_living_holder(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    store.acquire_lock("orders", holder("first"))
    with pytest.raises(LockHeldError) as raised:
        store.acquire_lock("orders", holder("second"))
    assert not raised.value.dead
    assert f"pid {os.getpid()}" in str(raised.value)
    store.release_lock("orders", holder("second"))  # not ours: stays
    assert store.lock_holder("orders").rollout_id == "first"  # type: ignore[union-attr]
    store.release_lock("orders", holder("first"))
    assert store.lock_holder("orders") is None


def test_a_lock_of_a_dead_process_is_known_dead(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    store = LocalStateStore(tmp_path)
    store.acquire_lock("orders", holder("gone", pid=int(finished.stdout)))
    with pytest.raises(LockHeldError) as raised:
        store.acquire_lock("orders", holder("next"))
    assert raised.value.dead


def test_history_keeps_every_finished_rollout(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    for n in range(3):
        store.append_history(RolloutRecord(id=f"r{n}", plan="orders", plan_hash="h"))
    assert [r.id for r in store.history("orders")] == ["r0", "r1", "r2"]
