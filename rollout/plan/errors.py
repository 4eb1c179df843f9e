"""Located plan errors: each names the file, line, column and key path, on one line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Location:
    """A place in a file, 1-based as editors show it."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def format_key_path(path: KeyPath) -> str:
    """`('targets', 0, 'strategy')` → `targets[0].strategy`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True)
class PlanError:
    """One problem in a plan file."""

    location: Location
    path: KeyPath
    message: str

    def __str__(self) -> str:
        where = format_key_path(self.path)
        return (
            f"{self.location}: {where}: {self.message}"
            if where
            else f"{self.location}: {self.message}"
        )


class PlanInvalidError(Exception):
    """The plan file cannot be used; carries every problem found."""

    def __init__(self, errors: Sequence[PlanError]) -> None:
        self.errors = tuple(sorted(errors, key=lambda e: (e.location.line, e.location.column)))
        super().__init__("\n".join(str(e) for e in self.errors))
