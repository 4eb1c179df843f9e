"""Paces each region's calls below AWS's control-plane limits, so large rollouts are not throttled.

Lambda allows about 15 control-plane requests a second per region for all
calls together; Step Functions' alias and version APIs refill about one a second.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from rollout.engine.ports import Clock

LIMITS = {"lambda": (15.0, 15.0), "stepfunctions": (1.0, 5.0)}  # (per second, burst)


@dataclass
class RequestPacer:
    """A token bucket: `acquire()` waits until a request may go."""

    clock: Clock
    rate: float
    burst: float
    _tokens: float = field(init=False)
    _updated: float = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._tokens = self.burst
        self._updated = self.clock.monotonic()

    @classmethod
    def for_service(cls, service: str, clock: Clock) -> RequestPacer:
        """The pacer for one service's limits (unlimited for others)."""
        rate, burst = LIMITS.get(service, (1000.0, 1000.0))
        return cls(clock, rate, burst)

    def acquire(self) -> None:
        """Take one token, waiting for it when the bucket is empty."""
        with self._lock:
            now = self.clock.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1
            # A negative balance is a queue: each caller waits for its own token.
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        self.clock.sleep(wait)
