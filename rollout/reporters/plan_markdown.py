"""`rollout plan` as markdown for a GitHub job summary: the verdict, a table per target, the
problems, and the whole plan text folded below them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rollout.redact import mask_secrets

if TYPE_CHECKING:
    from rollout.commands.inspect import LivePlan


def render_plan_markdown(name: str, live: LivePlan, text: str) -> str:
    """The summary section of a live plan named `name`, whose text rendering is `text`."""
    verdict = "changes pending" if live.changes_pending else "nothing to do"
    if live.problems:
        verdict += "; apply would fail"
    lines = [f"### rollout plan `{_cell(name)}`: {verdict}", ""]
    if live.targets:
        lines += ["| region | target | serves now | apply would |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {t.region} | {_cell(t.target)} | {_cell(t.current)} | "
            f"{'publish' if t.changed else 'keep'}: {_cell(t.release)} |"
            for t in live.targets
        ]
        lines.append("")
    lines += [f"- :x: {_cell(problem)}" for problem in live.problems]
    fence = "````"  # longer than any fence the plan text could hold
    lines += ["<details><summary>the whole plan</summary>", "", fence, text.rstrip("\n"), fence]
    lines += ["", "</details>", "", ""]
    return mask_secrets("\n".join(lines))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
