"""Chooses the state backend a plan asks for."""

from __future__ import annotations

from pathlib import Path

from rollout.aws.clients import AwsAccess, client, make_session
from rollout.plan.load import LoadedPlan
from rollout.state.s3_store import S3StateStore
from rollout.state.store import LocalStateStore, StateStore

DEFAULT_FOLDER = ".rollout"
# A store that stops answering must be noticed in seconds: the rollout then rolls back
# from memory, and a cancelled CI job leaves little time for that.
STORE_READ_TIMEOUT = 10.0
STORE_ATTEMPTS = 3


def open_store(loaded: LoadedPlan, endpoint_url: str | None = None) -> StateStore:
    """The plan's state store: local files next to the plan unless it says otherwise."""
    state = loaded.plan.state
    if state.backend == "s3":
        assert state.bucket is not None and state.lock_table is not None
        access = AwsAccess(
            region=state.region or loaded.plan.regions[0],
            endpoint_url=endpoint_url or loaded.plan.aws.endpoint_url,
            profile=loaded.plan.aws.profile,
        )
        session = make_session(access)
        return S3StateStore(
            client(access, "s3", session, STORE_READ_TIMEOUT, STORE_ATTEMPTS),
            client(access, "dynamodb", session, STORE_READ_TIMEOUT, STORE_ATTEMPTS),
            bucket=state.bucket,
            prefix=state.prefix or "",
            lock_table=state.lock_table,
        )
    folder = Path(state.path) if state.path else Path(DEFAULT_FOLDER)
    return LocalStateStore(folder if folder.is_absolute() else loaded.base_dir / folder)
