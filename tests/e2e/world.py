"""End-to-end helpers: the sandbox world, and a watcher that samples an alias while it changes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rollout.sandbox import SandboxWorld, package

# The end-to-end tests build their AWS with the same helpers as `rollout demo`.
World = SandboxWorld
code_zip = package


@dataclass
class AliasWatcher:
    """Samples an alias every 50 ms in a thread; keeps each distinct routing it saw, in order."""

    read: Callable[[], Any]
    on_change: Callable[[Any], None] = lambda _routing: None
    seen: list[Any] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> AliasWatcher:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(5)
        self._sample()

    def _sample(self) -> None:
        routing = self.read()
        if not self.seen or self.seen[-1] != routing:
            self.seen.append(routing)
            self.on_change(routing)

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            self._sample()
