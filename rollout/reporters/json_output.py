"""The one JSON contract of every command: each document or line carries `schema_version`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

SCHEMA_VERSION = 1


def versioned(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with `schema_version` first."""
    return {"schema_version": SCHEMA_VERSION, **document}


def versioned_lines(write: Callable[[str], None]) -> Callable[[str], None]:
    """A writer of JSON lines that adds `schema_version` to each object that lacks it."""

    def write_versioned(line: str) -> None:
        document = json.loads(line)
        if isinstance(document, dict) and "schema_version" not in document:
            line = json.dumps(versioned(document))
        write(line)

    return write_versioned
