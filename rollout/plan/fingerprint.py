"""Fingerprints of a plan's meaning, part by part, so `resume` can name what was edited since.

Comments, key order and spelling of durations do not change a fingerprint;
any change to what the plan asks for does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from rollout.plan.model import Plan


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def plan_parts(plan: Plan) -> dict[str, str]:
    """`{"regions": …, "alarms": …, "targets.api": …}`: one fingerprint per part."""
    data = plan.model_dump(mode="json", by_alias=True)
    parts = {key: _digest(value) for key, value in data.items() if key != "targets"}
    for target in data["targets"]:
        parts[f"targets.{target['name']}"] = _digest(target)
    return parts


def plan_hash(parts: Mapping[str, str]) -> str:
    """One fingerprint of the whole plan."""
    return _digest(dict(parts))


def changed_parts(recorded: Mapping[str, str], current: Mapping[str, str]) -> list[str]:
    """The parts added, removed or edited between two fingerprints, in a stable order."""
    names = sorted(set(recorded) | set(current))
    changed = []
    for name in names:
        if name not in current:
            changed.append(f"{name} (removed)")
        elif name not in recorded:
            changed.append(f"{name} (added)")
        elif recorded[name] != current[name]:
            changed.append(name)
    return changed
