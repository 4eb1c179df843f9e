"""The plan preview as one JSON document on one line, for scripts and CI."""

from __future__ import annotations

import json
from typing import Any

from rollout.plan.placeholders import find_placeholders
from rollout.preview import PlanPreview, TargetPreview
from rollout.reporters.json_output import SCHEMA_VERSION


def render_plan_json(preview: PlanPreview, *, mode: str) -> str:
    """The preview as JSON; durations in seconds."""
    document = {
        "schema_version": SCHEMA_VERSION,
        "plan": preview.name,
        "mode": mode,
        "duration_seconds": preview.duration.total_seconds(),
        "manual_pauses": preview.manual_pauses,
        "poll_interval_seconds": preview.poll_interval.total_seconds(),
        "waves": [
            {
                "wave": wave.number,
                "parallelism": wave.parallelism,
                "duration_seconds": wave.duration.total_seconds(),
                "regions": [
                    {
                        "region": region.region,
                        "duration_seconds": region.duration.total_seconds(),
                        "terraform": region.terraform,
                        "nginx": region.nginx,
                        "targets": [_target(t) for t in region.targets],
                    }
                    for region in wave.regions
                ],
            }
            for wave in preview.waves
        ],
    }
    return json.dumps(document) + "\n"  # one line, as every JSON document of rollout


def _target(target: TargetPreview) -> dict[str, Any]:
    return {
        "name": target.name,
        "kind": target.kind,
        "resource": target.resource,
        "alias": target.alias,
        "strategy": target.strategy,
        "duration_seconds": target.duration.total_seconds(),
        "manual_pauses": target.manual_pauses,
        "alarms": list(target.alarms),
        # Placeholders left in the names above: terraform outputs, known after it applies.
        "unresolved": sorted(
            {p.name for text in (target.resource, target.alias) for p in find_placeholders(text)}
        ),
        "timeline": [
            {
                "offset_seconds": row.offset.total_seconds(),
                "after_manual_promote": row.after_pause,
                "action": row.action,
                "weight": float(row.weight),
            }
            for row in target.timeline
        ],
    }
