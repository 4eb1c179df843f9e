"""Events as JSON lines: one object per event, `{"schema_version": 1, "event": kind, ...}`.

Every object has `schema_version`, `event` (the kind), `rollout_id`, `at` (ISO
8601 UTC), `region` and `target` (null when not about one); the other keys are
the event's fields, documented in the README.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from rollout.engine import events as ev
from rollout.redact import mask_strings
from rollout.reporters.json_output import SCHEMA_VERSION


def event_document(event: ev.Event) -> dict[str, Any]:
    """One event as plain JSON data, secrets masked in its strings."""
    fields = dataclasses.asdict(event)
    fields["at"] = event.at.isoformat().replace("+00:00", "Z")
    # Through JSON and back: every value is plain data, and secrets are masked in strings only.
    plain = json.loads(json.dumps(fields, default=str))
    return {"schema_version": SCHEMA_VERSION, "event": event.kind, **mask_strings(plain)}


def event_json(event: ev.Event) -> str:
    """One event as one line of JSON."""
    return json.dumps(event_document(event))


class JsonLinesReporter:
    """Writes one JSON object per event."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def __call__(self, event: ev.Event) -> None:
        self.write(event_json(event))
