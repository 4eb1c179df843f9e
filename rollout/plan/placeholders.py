"""Placeholders such as `{region}`, `{tf.api_url}` or `{targets.api.version_arn}` in plan strings.

Only braces around a dotted name are placeholders; any other brace is literal
text, so JSON and NGINX snippets pass through untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\}")


@dataclass(frozen=True)
class Placeholder:
    """One `{name.parts}` occurrence."""

    name: str

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.name.split("."))

    def __str__(self) -> str:
        return "{" + self.name + "}"


class UnresolvedPlaceholderError(KeyError):
    """A placeholder with no value at render time."""


def find_placeholders(text: str) -> Iterator[Placeholder]:
    """Every placeholder in `text`, in order."""
    for match in _PLACEHOLDER.finditer(text):
        yield Placeholder(match.group(1))


def render(text: str, values: Mapping[str, str]) -> str:
    """Replace each placeholder by its value; raise UnresolvedPlaceholderError for a missing one."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise UnresolvedPlaceholderError(name)
        return values[name]

    return _PLACEHOLDER.sub(substitute, text)


def render_known(text: str, values: Mapping[str, str]) -> str:
    """Replace the placeholders that have a value and leave the others as written."""
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)
