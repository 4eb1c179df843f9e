"""A target's progress survives being stored: every field of the snapshot comes back."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from decimal import Decimal

from rollout.engine.ports import TargetSnapshot, TargetStatus
from rollout.engine.routing import AliasRouting
from rollout.state.model import TargetRecord
from rollout.state.session import _target_record, snapshot_of


def test_every_snapshot_field_round_trips_through_the_stored_record() -> None:
    split = AliasRouting("1", (("2", Decimal("12.5")),))
    snapshot = TargetSnapshot(
        status=TargetStatus.SHIFTING,
        alias_arn="arn:aws:lambda:us-east-1:123456789012:function:api:live",
        initial=AliasRouting("1"),
        last=split,
        pending=AliasRouting("1", (("2", Decimal(50)),)),
        old_version="1",
        new_version="2",
        new_version_arn="arn:aws:lambda:us-east-1:123456789012:function:api:2",
        step=3,
        paused=True,
        bake_ends_at=datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc),
        notified=True,
    )
    # A field added to the snapshot must be given a value here, so that it is checked too.
    defaults = TargetSnapshot(status=TargetStatus.SHIFTING)
    unset = [
        f.name
        for f in dataclasses.fields(snapshot)
        if getattr(snapshot, f.name) == getattr(defaults, f.name) and f.name != "status"
    ]
    assert unset == []

    stored = TargetRecord.model_validate_json(_target_record(snapshot).model_dump_json())

    assert snapshot_of(stored) == snapshot
