"""Turns pydantic's validation errors into located, one-line plan errors."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from rollout.plan.errors import KeyPath, PlanError
from rollout.plan.source import SourceDocument


def describe_value(value: Any) -> str:
    """How a YAML value reads to a person: `a mapping`, `a list`, `'abc'`."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def plan_errors(
    exc: ValidationError, source: SourceDocument, sections: dict[int, Any]
) -> list[PlanError]:
    """One PlanError per pydantic error, located in the source."""
    return [_plan_error(error, source, sections) for error in exc.errors()]


def _data_path(loc: tuple[int | str, ...], data: Any) -> tuple[KeyPath, Any, Any]:
    """Follow `loc` through the data, skipping union tags; return the path, its parent and value."""
    path: list[str | int] = []
    parent: Any = None
    current: Any = data
    for part in loc:
        if _has_child(current, part):
            parent, current = current, current[part]
            path.append(part)
        elif isinstance(current, dict) and part == loc[-1]:
            # A key that is absent (missing) or unknown: keep it in the path.
            path.append(part)
            return tuple(path), current, None
    return tuple(path), parent, current


def _has_child(container: Any, part: int | str) -> bool:
    if isinstance(container, dict):
        return isinstance(part, str) and part in container
    if isinstance(container, list):
        return isinstance(part, int) and 0 <= part < len(container)
    return False


def _plan_error(error: ErrorDetails, source: SourceDocument, sections: dict[int, Any]) -> PlanError:
    path, parent, value = _data_path(tuple(error["loc"]), source.data)
    kind = error["type"]
    if kind == "extra_forbidden":
        return source.error(path, _unknown_key(str(path[-1]), parent, sections))
    if kind == "missing":
        return source.error(path, "required key is missing")
    return source.error(path, _message(error, value))


def _unknown_key(key: str, parent: Any, sections: dict[int, Any]) -> str:
    section = sections.get(id(parent))
    valid: list[str] = section.valid_keys() if section is not None else []
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    if valid:
        return f"unknown key; valid keys here: {', '.join(valid)}"
    return "unknown key"


_EXPECTED = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _message(error: ErrorDetails, value: Any) -> str:
    kind = error["type"]
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {describe_value(error['input'])}"
    if kind == "string_pattern_mismatch":
        return (
            f"{describe_value(error['input'])} does not match the pattern {error['ctx']['pattern']}"
        )
    if kind == "literal_error":
        return f"must be {error['ctx']['expected']}, not {describe_value(error['input'])}"
    if kind in ("too_short", "too_long") and isinstance(value, list | str):
        return error["msg"].replace("List", "the list").replace("Value", "the value")
    message = error["msg"]
    if kind.startswith(("greater_than", "less_than")):
        return f"{message[0].lower()}{message[1:]}, not {describe_value(error['input'])}"
    return message.removeprefix("Value error, ")
