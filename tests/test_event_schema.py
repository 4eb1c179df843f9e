"""The JSON event schema the README documents is the one the code emits."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timezone
from pathlib import Path

from rollout.engine import events as ev
from rollout.engine.outcome import Outcome
from rollout.reporters.event_json import event_json

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
COMMON = ("region", "target", "at", "rollout_id")
ROW = re.compile(r"^\| `(\w+)` \| (.*) \|$", re.MULTILINE)


def documented() -> dict[str, list[str]]:
    return {kind: re.findall(r"`(\w+)`", fields) for kind, fields in ROW.findall(README)}


def test_every_event_kind_is_documented_with_its_fields() -> None:
    table = documented()
    for cls in ev.Event.__subclasses__():
        own = [f.name for f in dataclasses.fields(cls) if f.name not in COMMON]
        assert table.get(cls.kind) == own, f"README's row for {cls.kind}"


def test_every_outcome_is_documented() -> None:
    for outcome in Outcome:
        assert f"`{outcome.value}`" in README


def test_an_event_line_carries_the_common_keys() -> None:
    event = ev.WeightShifted(
        region="us-east-1",
        target="api",
        weight=10.0,
        routing=(ev.Share(1, 90.0), ev.Share(2, 10.0)),
        step=1,
        steps=2,
        at=datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc),
        rollout_id="0123456789ab",
    )
    line = json.loads(event_json(event))
    assert line == {
        "schema_version": 1,
        "event": "weight_shifted",
        "rollout_id": "0123456789ab",
        "region": "us-east-1",
        "target": "api",
        "at": "2026-11-26T12:00:00Z",
        "weight": 10.0,
        "routing": [{"version": 1, "weight": 90.0}, {"version": 2, "weight": 10.0}],
        "step": 1,
        "steps": 2,
    }
