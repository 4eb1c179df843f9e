"""Blue/green: validate the new (green) version at 0%, then move everything at once.

The old (blue) version stays published, so a rollback is a single alias update.
"""

from __future__ import annotations

from datetime import timedelta

from strategies.base import Step, Validate, finish


def steps(*, bake: timedelta) -> tuple[Step, ...]:
    """Validate, shift 100, bake."""
    return finish((Validate(),), bake)
