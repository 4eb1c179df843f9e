"""Durations as people write them in a plan: `90s`, `5m`, `1h30m`, `0.5s`, `250ms`."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_ORDER = ("h", "m", "s", "ms")
_UNIT = {
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
    "ms": timedelta(milliseconds=1),
}
PATTERN = r"^(?=\d)(\d+(\.\d+)?h)?(\d+(\.\d+)?m)?(\d+(\.\d+)?s)?(\d+ms)?$"
EXAMPLES = ("90s", "5m", "1h30m", "0.5s")


class DurationError(ValueError):
    """Text that is not a duration; str() says what would be."""


def parse_duration(text: str) -> timedelta:
    """Parse `1h30m`-style text into a timedelta."""
    cleaned = text.strip()
    position, total, last_unit = 0, timedelta(0), -1
    for match in _PART.finditer(cleaned):
        unit = _ORDER.index(match.group(2))
        if match.start() != position or unit <= last_unit:
            break
        total += _UNIT[match.group(2)] * float(Decimal(match.group(1)))
        position, last_unit = match.end(), unit
    if not cleaned or position != len(cleaned):
        raise DurationError(f"{text!r} is not a duration; write it like 90s, 5m, 1h30m or 0.5s")
    return total


def format_duration(value: timedelta) -> str:
    """The shortest `1h30m`-style text for a timedelta (milliseconds kept, finer dropped)."""
    milliseconds = round(value.total_seconds() * 1000)
    if milliseconds == 0:
        return "0s"
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    text = f"{hours}h" if hours else ""
    text += f"{minutes}m" if minutes else ""
    if millis:
        text += f"{seconds}.{millis:03d}".rstrip("0") + "s"
    elif seconds:
        text += f"{seconds}s"
    return text
