"""Paces each region's calls below AWS's control-plane limits, so large rollouts are not throttled.

Lambda allows about 15 control-plane requests a second per region for all
calls together, and GetFunction 100 a second of its own. Step Functions gives
its alias and version APIs each a bucket of their own: 100 requests that refill
at one a second (DescribeStateMachineAlias: 200). Pacing against the real
buckets lets a rollback of a dozen state machine aliases go out at once, inside
the seconds a cancelled CI job leaves.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from rollout.engine.ports import Clock

EVERY_API = "*"
# (refill per second, bucket size), by service and API; EVERY_API is one bucket for all.
# Lambda's are paced a little under AWS's 15/s and 100/s: a request that reaches AWS a few
# milliseconds late would otherwise meet an empty bucket and be throttled.
LIMITS: dict[str, dict[str, tuple[float, float]]] = {
    "lambda": {EVERY_API: (14.0, 14.0), "GetFunction": (90.0, 90.0)},
    "stepfunctions": {
        "CreateStateMachineAlias": (1.0, 100.0),
        "UpdateStateMachineAlias": (1.0, 100.0),
        "PublishStateMachineVersion": (1.0, 100.0),
        "UpdateStateMachine": (1.0, 100.0),
        "DescribeStateMachineAlias": (1.0, 200.0),
    },
}


class Pacer(Protocol):
    """Waits until a call of `operation` may go."""

    def acquire(self, operation: str = EVERY_API) -> None: ...


@dataclass
class RequestPacer:
    """One token bucket: `acquire()` waits until a request may go, whatever the API."""

    clock: Clock
    rate: float
    burst: float
    _tokens: float = field(init=False)
    _updated: float = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._tokens = self.burst
        self._updated = self.clock.monotonic()

    def acquire(self, operation: str = EVERY_API) -> None:
        """Take one token, waiting for it when the bucket is empty."""
        with self._lock:
            now = self.clock.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1
            # A negative balance is a queue: each caller waits for its own token.
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        self.clock.sleep(wait)


@dataclass
class ServicePacer:
    """One service's buckets in one region, shared by all of its targets."""

    service: str
    clock: Clock
    _buckets: dict[str, RequestPacer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, operation: str = EVERY_API) -> None:
        """Wait for the bucket `operation` draws on; APIs without a known limit go at once."""
        limits = LIMITS.get(self.service, {})
        key = operation if operation in limits else EVERY_API
        if key not in limits:
            return
        with self._lock:
            if key not in self._buckets:
                rate, burst = limits[key]
                self._buckets[key] = RequestPacer(self.clock, rate, burst)
            bucket = self._buckets[key]
        bucket.acquire()
