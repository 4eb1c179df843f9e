"""The local state backend: atomic private files, and a lock that names its holder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from rollout.engine.ports import TargetSnapshot, TargetStatus
from rollout.engine.routing import AliasRouting
from rollout.state.model import LockHolder, Requests, RolloutRecord, RolloutStatus
from rollout.state.session import RolloutSession
from rollout.state.store import LocalStateStore, LockHeldError, StateError
from tests.engine.fakes import FakeClock
from tests.processes import wait_until


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


def test_a_promote_written_from_a_read_before_an_abort_does_not_erase_the_abort(
    tmp_path: Path,
) -> None:
    store = LocalStateStore(tmp_path)
    read_by_promote = store.read_requests("orders")  # `promote` reads…
    store.request_abort("orders")  # …`abort` lands in between…
    store.write_requests("orders", read_by_promote.model_copy(update={"promote_full": True}))

    requests = store.read_requests("orders")  # …and both requests stand.
    assert requests.abort and requests.promote_full
    store.clear_requests("orders")  # a new rollout starts with none
    assert store.read_requests("orders") == Requests()


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


@pytest.mark.parametrize(
    ("leaf", "content", "said"),
    [
        ("orders.json", "", "is empty (truncated?)"),
        ("orders.json", '{"id": "abc", "plan": "ord', "is not readable (Invalid JSON"),
        ("orders.json", '{"unexpected": true}', "is not readable (not a rollout document"),
        ("orders.json", "\udcff", "is not readable"),
        ("orders.requests.json", "{", "it only holds abort and promote requests"),
    ],
)
def test_a_damaged_state_file_is_one_error_naming_it_and_what_to_do(
    tmp_path: Path, leaf: str, content: str, said: str
) -> None:
    store = LocalStateStore(tmp_path)
    (tmp_path / leaf).write_bytes(content.encode("utf-8", "surrogateescape"))

    with pytest.raises(StateError) as raised:
        store.read_requests("orders") if "requests" in leaf else store.read("orders")

    message = str(raised.value)
    assert str(tmp_path / leaf) in message and said in message
    assert "\n" not in message


def test_a_damaged_history_line_is_named_by_its_number(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    store.append_history(RolloutRecord(id="r0", plan="orders", plan_hash="h"))
    with (tmp_path / "orders.history.jsonl").open("a") as history:
        history.write('{"id": "r1", "pla\n')

    with pytest.raises(StateError, match=r"line 2 of .*orders.history.jsonl.*remove that line"):
        store.history("orders")


@pytest.mark.parametrize("content", ["", "{half a holder"])
def test_an_empty_or_damaged_lock_file_is_held_by_an_unknown_holder_and_breakable(
    tmp_path: Path, content: str
) -> None:
    store = LocalStateStore(tmp_path)
    (tmp_path / "orders.lock").write_text(content)

    with pytest.raises(LockHeldError) as raised:  # not RecursionError
        store.acquire_lock("orders", holder("next"))

    assert "a process may have died while taking the lock" in str(raised.value)
    assert "rollout unlock --force" in str(raised.value) and not raised.value.dead
    store.break_lock("orders")
    store.acquire_lock("orders", holder("next"))
    assert store.lock_holder("orders").rollout_id == "next"  # type: ignore[union-attr]


def test_a_lock_is_never_seen_half_written(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    store.acquire_lock("orders", holder("first"))
    # Created whole, through a private file linked into place: no temporary file is left.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.lock"]
    assert (tmp_path / "orders.lock").stat().st_mode & 0o777 == 0o600


def test_a_state_folder_that_cannot_be_written_is_a_state_error_naming_the_file(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "state"
    blocked.write_text("a file where the folder should be")
    store = LocalStateStore(blocked)

    for write in (
        lambda: store.write(RolloutRecord(id="a", plan="orders", plan_hash="h")),
        lambda: store.write_requests("orders", Requests()),
        lambda: store.append_history(RolloutRecord(id="a", plan="orders", plan_hash="h")),
        lambda: store.acquire_lock("orders", holder("a")),
    ):
        with pytest.raises(StateError, match=r"cannot write .*state/orders"):
            write()


def test_a_history_line_cut_by_a_crash_does_not_swallow_the_next_rollout(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    store.append_history(RolloutRecord(id="r0", plan="orders", plan_hash="h"))
    with (tmp_path / "orders.history.jsonl").open("a") as history:
        history.write('{"id": "r1", "pla')  # the crash came mid-line
    store.append_history(RolloutRecord(id="r2", plan="orders", plan_hash="h"))

    lines = (tmp_path / "orders.history.jsonl").read_text().splitlines()
    assert RolloutRecord.model_validate_json(lines[-1]).id == "r2"
    with pytest.raises(StateError, match="line 2 of"):
        store.history("orders")


def test_a_session_that_writes_nothing_keeps_showing_its_lock_is_alive(tmp_path: Path) -> None:
    # A rollback on another host judges a holder by when it was last heard from; a
    # confirmation prompt, a terraform apply or a rollback's backoff writes no journal.
    store = LocalStateStore(tmp_path)
    session = RolloutSession.start(
        store, "orders", FakeClock(), plan_hash="h", plan_parts={}, keep_lock_every=0.02
    )
    session.take_lock(lambda _line: None)
    taken = store.lock_holder("orders")
    assert taken is not None

    def refreshed() -> bool:
        holder = store.lock_holder("orders")
        return holder is not None and holder.refreshed_at > taken.refreshed_at

    wait_until(refreshed, 10)  # the fake clock never moved: a thread of its own did it
    assert session.release_lock() is None
    assert store.lock_holder("orders") is None  # and nothing wrote it back after the release


def test_several_targets_are_recorded_in_one_write_of_the_document(tmp_path: Path) -> None:
    class CountingStore(LocalStateStore):
        writes = 0

        def write(self, record: RolloutRecord) -> None:
            self.writes += 1
            super().write(record)

    store = CountingStore(tmp_path)
    session = RolloutSession.start(store, "orders", FakeClock(), plan_hash="h", plan_parts={})
    rolling_back = TargetSnapshot(TargetStatus.ROLLING_BACK, "arn:fn:live", AliasRouting("1"))

    session.targets("us-east-1", {"api": rolling_back, "flow": rolling_back})

    assert store.writes == 1
    stored = store.read("orders")
    assert stored is not None
    assert sorted(stored.regions["us-east-1"].targets) == ["api", "flow"]
    assert stored.regions["us-east-1"].targets["flow"].status is TargetStatus.ROLLING_BACK


def test_journal_writes_refresh_the_lock_only_as_often_as_a_quiet_wait_would(
    tmp_path: Path,
) -> None:
    # A lock refresh is a second fsync'd write (a DynamoDB call with the S3 store) for every
    # journal write; being heard from every few seconds is all a rollback elsewhere needs.
    class CountingStore(LocalStateStore):
        refreshes = 0

        def refresh_lock(self, name: str, holder: LockHolder) -> None:
            self.refreshes += 1
            super().refresh_lock(name, holder)

    store = CountingStore(tmp_path)
    clock = FakeClock()
    session = RolloutSession.start(store, "orders", clock, plan_hash="h", plan_parts={})
    session.take_lock(lambda _line: None)
    session.begin([], [])
    shifting = TargetSnapshot(TargetStatus.SHIFTING, "arn:fn:live", AliasRouting("1"))
    for _ in range(50):
        session.targets("us-east-1", {"api": shifting})
        clock.sleep(0.1)
    assert store.refreshes <= 2

    before = store.refreshes
    clock.sleep(60)  # a long bake: the next write says the holder is still alive
    session.targets("us-east-1", {"api": shifting})
    assert store.refreshes == before + 1


def test_a_running_rollout_takes_its_lock_again_when_the_file_went_away(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / ".rollout")
    store.acquire_lock("orders", holder("running"))
    (tmp_path / ".rollout" / "orders.lock").unlink()
    (tmp_path / ".rollout").rmdir()

    store.refresh_lock("orders", holder("running"))

    assert store.lock_holder("orders").rollout_id == "running"  # type: ignore[union-attr]


def test_a_running_rollout_whose_lock_another_took_is_told_so(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    store.acquire_lock("orders", holder("running"))
    store.break_lock("orders")  # `rollout unlock --force` from another terminal
    store.acquire_lock("orders", holder("other"))

    with pytest.raises(StateError, match=r"lost the lock .*orders\.lock: now held by"):
        store.refresh_lock("orders", holder("running"))


def test_two_processes_taking_over_a_dead_lock_at_once_never_both_hold_it(
    tmp_path: Path,
) -> None:
    # `rollout resume` and `rollout rollback` started together after a crash: both find the
    # holder dead; the second must not break the lock the first has just taken.
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    LocalStateStore(tmp_path).acquire_lock("orders", holder("crashed", pid=int(finished.stdout)))
    first = RolloutSession.start(
        LocalStateStore(tmp_path), "orders", FakeClock(), plan_hash="h", plan_parts={}
    )

    class Late(LocalStateStore):
        def break_lock(self, name: str, only: LockHolder | None = None) -> LockHolder | None:
            first.take_lock(lambda _line: None)  # between the second's look and its break
            return super().break_lock(name, only)

    second = RolloutSession.start(
        Late(tmp_path), "orders", FakeClock(), plan_hash="h", plan_parts={}
    )

    with pytest.raises(LockHeldError):
        second.take_lock(lambda _line: None)
    assert LocalStateStore(tmp_path).lock_holder("orders").rollout_id == first.record.id  # type: ignore[union-attr]
