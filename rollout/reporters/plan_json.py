"""The plan preview as one JSON document on one line, for scripts and CI."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from rollout.plan.placeholders import find_placeholders
from rollout.preview import PlanPreview, TargetPreview
from rollout.redact import mask_strings
from rollout.reporters.json_output import SCHEMA_VERSION
from rollout.reporters.plan_text import render_live_text, render_plan_text

if TYPE_CHECKING:  # the live plan reads AWS; the offline preview must not import it
    from rollout.commands.inspect import LivePlan


def render_plan_json(
    preview: PlanPreview, *, mode: str, exit_code: int, live: LivePlan | None = None
) -> str:
    """The preview as one JSON line, with the common keys (`exit_code`, `lines`: the text
    output's lines) and, when read from AWS, what it reported under `live`; masked."""
    text = render_plan_text(preview, mode=mode)
    if live is not None:
        text += render_live_text(live)
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "exit_code": exit_code,
        "lines": text.rstrip("\n").splitlines(),
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
    if live is not None:
        document["live"] = dataclasses.asdict(live) | {"changes_pending": live.changes_pending}
    return json.dumps(mask_strings(document)) + "\n"  # one line, as every JSON document


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
