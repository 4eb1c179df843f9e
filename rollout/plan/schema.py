"""The JSON Schema of the plan file, generated from the model so it cannot drift from it."""

from __future__ import annotations

from typing import Any

from rollout.plan.model import Plan

SCHEMA_ID = "https://rollout.invalid/schema/plan-v1.json"


def plan_json_schema() -> dict[str, Any]:
    """The plan file's JSON Schema (draft 2020-12)."""
    schema = Plan.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
