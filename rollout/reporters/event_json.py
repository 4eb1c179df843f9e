"""Events as JSON lines: one object per event, `{"event": kind, "at": ..., ...fields}`.

The schema: every object has `event` (the kind), `at` (ISO 8601 UTC), `region`
and `target` (null when not about one); the other keys are the event's fields.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

from rollout.engine import events as ev


def event_json(event: ev.Event) -> str:
    """One event as one line of JSON."""
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    fields["at"] = event.at.isoformat().replace("+00:00", "Z")
    return json.dumps({"event": event.kind, **fields}, default=str, sort_keys=False)


class JsonLinesReporter:
    """Writes one JSON object per event."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def __call__(self, event: ev.Event) -> None:
        self.write(event_json(event))
