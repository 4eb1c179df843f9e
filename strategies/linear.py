"""Linear: equal increments at equal intervals until all traffic has moved.

As with CodeDeploy, the first increment moves at once and the last one is
capped at 100: 10% every minute reaches 100% after nine minutes.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from strategies.base import HUNDRED, Bake, Shift, Step, check_interval, check_share, finish


def steps(*, percent: Decimal, interval: timedelta, bake: timedelta) -> tuple[Step, ...]:
    """Shift p, bake t, shift 2p, bake t, … shift 100, bake."""
    percent = check_share(percent, "linear")
    check_interval(interval, "linear")
    moves: list[Step] = []
    weight = percent
    while weight < HUNDRED:
        moves += [Shift(weight), Bake(interval)]
        weight += percent
    return finish(moves, bake)
