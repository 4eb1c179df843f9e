"""Value types of the plan file: durations, percentages, region names."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

from rollout.plan import durations

REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$"
_REGION = re.compile(REGION_PATTERN)


DURATION_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": durations.PATTERN,
    "examples": list(durations.EXAMPLES),
}


def parse_duration_value(value: Any) -> timedelta:
    """A plan value as a duration, or a PydanticCustomError saying how to write one."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError(
            "duration",
            "a duration needs a unit: write 90s, 5m or 1h30m, not {value}",
            {"value": repr(value)},
        )
    try:
        return durations.parse_duration(value)
    except durations.DurationError as exc:
        raise PydanticCustomError("duration", str(exc)) from None


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration_value),
    PlainSerializer(durations.format_duration, return_type=str),
    WithJsonSchema(DURATION_SCHEMA),
]


def _decimal(value: Any) -> Decimal:
    message = "expected a percentage such as 10 or 12.5, not {value}"
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise PydanticCustomError("percent", message, {"value": repr(value)})
    try:
        # str() first so that a YAML float such as 33.33 becomes exactly Decimal("33.33").
        number = Decimal(str(value))
    except InvalidOperation:
        raise PydanticCustomError("percent", message, {"value": repr(value)}) from None
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int):
        raise PydanticCustomError("percent", message, {"value": repr(value)})
    if exponent < -2:
        raise PydanticCustomError(
            "percent", "a percentage takes at most two decimals, not {value}", {"value": value}
        )
    return number


def _traffic_share(value: Any) -> Decimal:
    number = _decimal(value)
    if not 0 < number < 100:
        raise PydanticCustomError(
            "percent", "must be above 0 and below 100, not {value}", {"value": value}
        )
    return number


def _weight(value: Any) -> Decimal:
    number = _decimal(value)
    if not 0 < number <= 100:
        raise PydanticCustomError(
            "percent", "a weight must be above 0 and at most 100, not {value}", {"value": value}
        )
    return number


# The share of traffic a canary or linear step moves: strictly between 0 and 100.
TrafficShare = Annotated[
    Decimal,
    BeforeValidator(_traffic_share),
    PlainSerializer(float, return_type=float),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100}),
]

# The percentage of traffic on the new version after a step: above 0, up to 100.
Weight = Annotated[
    Decimal,
    BeforeValidator(_weight),
    PlainSerializer(float, return_type=float),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 100}),
]


def _region(value: Any) -> str:
    if not isinstance(value, str) or not _REGION.match(value):
        raise PydanticCustomError(
            "region", "{value} is not an AWS region name such as us-east-1", {"value": repr(value)}
        )
    return value


RegionName = Annotated[
    str,
    BeforeValidator(_region),
    WithJsonSchema({"type": "string", "pattern": REGION_PATTERN, "examples": ["us-east-1"]}),
]
