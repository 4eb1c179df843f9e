"""Keeps a held lock saying its holder is alive, from a thread of its own.

The main thread can go minutes without a journal write: a confirmation prompt,
a terraform apply, a rollback backing off between retries. A rollback started
on another host judges the holder by when it was last heard from, and must
never take a live rollout for a gone one (an operator would then break the
lock, and two processes would move the same aliases).
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class LockKeeper:
    """Calls `refresh` every `interval` seconds between `start` and `stop`."""

    def __init__(self, refresh: Callable[[], None], interval: float) -> None:
        self.interval = interval
        self._refresh = refresh
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Begin refreshing; a daemon thread, so a killed or exiting process leaves nothing."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._keep, name="rollout-lock-keeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop; once this returns `refresh` is not called again (the lock can be released)."""
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _keep(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self._refresh()
            except Exception:  # a failing store shows in the journal's own writes
                continue
