"""Events as JSON lines: one object per event, `{"event": kind, "at": ..., ...fields}`.

The schema: every object has `event` (the kind), `at` (ISO 8601 UTC), `region`
and `target` (null when not about one); the other keys are the event's fields.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

from rollout.engine import events as ev
from rollout.redact import mask_strings


def event_json(event: ev.Event) -> str:
    """One event as one line of JSON."""
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    fields["at"] = event.at.isoformat().replace("+00:00", "Z")
    # Through JSON and back: every value is plain data, and secrets are masked in strings only.
    plain = json.loads(json.dumps(fields, default=str))
    return json.dumps({"event": event.kind, **mask_strings(plain)}, sort_keys=False)


class JsonLinesReporter:
    """Writes one JSON object per event."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def __call__(self, event: ev.Event) -> None:
        self.write(event_json(event))
