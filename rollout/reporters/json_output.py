"""The one JSON contract of every command: each document or line carries `schema_version`."""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 1


def versioned(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with `schema_version` first."""
    return {"schema_version": SCHEMA_VERSION, **document}
