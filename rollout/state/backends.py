"""Chooses the state backend a plan asks for."""

from __future__ import annotations

from pathlib import Path

from rollout.plan.load import LoadedPlan
from rollout.state.store import LocalStateStore, StateError, StateStore

DEFAULT_FOLDER = ".rollout"


def open_store(loaded: LoadedPlan) -> StateStore:
    """The plan's state store: local files next to the plan unless it says otherwise."""
    state = loaded.plan.state
    if state.backend == "s3":
        raise StateError(
            "the s3 state backend is not built yet; use the local backend (the default)"
        )
    folder = Path(state.path) if state.path else Path(DEFAULT_FOLDER)
    return LocalStateStore(folder if folder.is_absolute() else loaded.base_dir / folder)
