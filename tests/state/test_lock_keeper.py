"""The lock keeper's thread: it refreshes until stopped, and a failed refresh does not end it."""

from __future__ import annotations

import threading

from rollout.state.lock_keeper import LockKeeper


def test_it_refreshes_until_stopped_and_never_after() -> None:
    calls: list[int] = []
    third = threading.Event()

    def refresh() -> None:
        calls.append(1)
        if len(calls) == 3:
            third.set()

    keeper = LockKeeper(refresh, 0.001)
    keeper.start()
    assert third.wait(10)
    keeper.stop()

    assert not keeper.running  # joined: a release right after cannot be written over
    stopped_at = len(calls)
    keeper.stop()  # twice is fine
    assert len(calls) == stopped_at


def test_a_refresh_that_fails_does_not_stop_the_keeping() -> None:
    calls: list[int] = []
    recovered = threading.Event()

    def refresh() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("the state folder is gone for a moment")
        recovered.set()

    keeper = LockKeeper(refresh, 0.001)
    keeper.start()
    assert recovered.wait(10)
    keeper.stop()
