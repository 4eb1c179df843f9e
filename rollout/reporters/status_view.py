"""`rollout status --watch` on screen: redrawn in place on a terminal; on a pipe or in a file,
a new block only when something changed, so a CI log is not flooded with countdowns."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from rollout.commands.result import CommandResult
from rollout.redact import mask_secrets, mask_strings
from rollout.reporters.json_output import versioned
from rollout.reporters.output import GuardedOutput


class StatusView:
    """Shows one status result after another."""

    def __init__(self, *, json_lines: bool, terminal: bool, no_color: bool) -> None:
        self.json_lines = json_lines
        self.terminal = terminal and not json_lines  # JSON is for scripts: never redrawn
        self.no_color = no_color
        self.write = GuardedOutput()
        self._last_key: str | None = None
        self._live: Live | None = None

    def show(self, result: CommandResult) -> None:
        """Redraw, or print the result when it differs from the last one printed."""
        document = json.loads(json.dumps(versioned(_document(result)), default=str))
        if self.terminal:
            self._redraw(result)
            return
        key = json.dumps(_settled(document), sort_keys=True)
        if key == self._last_key:
            return
        if self.json_lines:
            self.write(json.dumps(mask_strings(document)))
        else:
            if self._last_key is not None:
                self.write("")  # a blank line between blocks
            for line in result.lines:
                self.write(mask_secrets(line))
        self._last_key = key

    def _redraw(self, result: CommandResult) -> None:
        text = Text("\n".join(mask_secrets(line) for line in result.lines))
        if self._live is None:
            console = Console(no_color=self.no_color, highlight=False)
            self._live = Live(text, console=console, auto_refresh=False, transient=False)
            self._live.start()
        self._live.update(text, refresh=True)

    def close(self) -> None:
        """Leave the last drawing on the screen."""
        if self._live is not None:
            self._live.stop()


def _document(result: CommandResult) -> dict[str, Any]:
    return {"exit_code": int(result.exit_code), "lines": list(result.lines), **result.facts}


def _settled(document: dict[str, Any]) -> dict[str, Any]:
    """The document without what changes by itself as time passes (countdowns, lock age)."""
    targets = [
        {
            key: value
            for key, value in target.items()
            if not (key == "waiting" and target.get("bake_ends_at"))
        }
        for target in document.get("targets", [])
    ]
    lines = [line for line in document.get("lines", []) if not line.startswith("locked by")]
    return document | {"targets": targets, "lines": _without_countdowns(lines), "locked_by": None}


def _without_countdowns(lines: list[str]) -> list[str]:
    return [line.split("; baking, ")[0] for line in lines]
