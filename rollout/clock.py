"""The one place that reads the time or sleeps; everything else receives a clock."""

from __future__ import annotations

import time
from datetime import datetime, timezone


class SystemClock:
    """Real time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` (nothing when zero or less)."""
        if seconds > 0:
            time.sleep(seconds)

    def now(self) -> datetime:
        """Wall-clock time in UTC."""
        return datetime.now(timezone.utc)
