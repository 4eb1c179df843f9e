"""The plan preview on a terminal: one table per region, a row per step."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from rollout.plan.durations import format_duration
from rollout.preview import PlanPreview, RegionPreview
from rollout.reporters.plan_text import format_offset, format_total, format_weight, target_heading


def print_plan_rich(preview: PlanPreview, console: Console, *, mode: str) -> None:
    """Print the preview with tables and colour."""
    console.print(f"[bold]rollout plan[/bold] {preview.name!r} ({mode}): nothing is changed")
    for wave in preview.waves:
        regions = ", ".join(r.region for r in wave.regions)
        console.print(
            f"\n[bold]wave {wave.number}[/bold]: {regions} (up to {wave.parallelism} at once)"
        )
        for region in wave.regions:
            console.print(_region_panel(region))
    total = format_total(preview.duration, preview.manual_pauses)
    every = format_duration(preview.poll_interval)
    console.print(f"[bold]total[/bold]: {total}, alarms polled every {every}")


def _region_panel(region: RegionPreview) -> Panel:
    parts: list[Table | Text] = []
    for target in region.targets:
        heading = Text(target_heading(target), style="bold")
        heading.append("\nalarms: ", style="")
        heading.append(", ".join(target.alarms) or "none", style="" if target.alarms else "yellow")
        parts.append(heading)
        table = Table(show_edge=False, pad_edge=False, box=None)
        table.add_column("time", justify="right", style="cyan")
        table.add_column("new version", justify="right", style="green")
        table.add_column("step")
        for row in target.timeline:
            table.add_row(format_offset(row), format_weight(row.weight), row.action)
        parts.append(table)
    return Panel(Group(*parts), title=region.region, title_align="left")
