"""Canary: a small share first, the rest after one interval."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from strategies.base import Bake, Shift, Step, check_interval, check_share, finish


def steps(*, percent: Decimal, interval: timedelta, bake: timedelta) -> tuple[Step, ...]:
    """Shift `percent`, bake `interval`, shift 100, bake."""
    percent = check_share(percent, "canary")
    check_interval(interval, "canary")
    return finish((Shift(percent), Bake(interval)), bake)
