"""The figures issue 11 asks for: their names, units and goals, and how they are reported."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

# name: (unit, goal); every goal is an upper bound.
GOALS: dict[str, tuple[str, float]] = {
    "rollback_latency_p50_s": ("s", float("inf")),
    "rollback_latency_p95_s": ("s", 1.5),
    "rollback_all_100_ratio": ("x", 1.15),
    "shift_step_limit_ratio": ("x", 1.15),
    "publish_latency_ratio": ("x", 1.3),
    "sfn_step_20_machines_s": ("s", 1.0),
    "describe_alarms_calls_per_tick": ("calls", 2.0),
    "finish_overhang_s": ("s", 0.3),
    "help_startup_ratio": ("x", 2.5),
    "validate_1000_targets_s": ("s", 0.5),
    "peak_rss_mb_200_targets": ("MB", 100.0),
    "terraform_parallel_ratio": ("x", 0.6),
    "crash_matrix_wrong_states": ("runs", 0.0),
    "fault_proxy_wrong_states": ("runs", 0.0),
}
PACKAGES = ("rollout", "boto3", "botocore", "moto", "pydantic", "click", "rich", "PyYAML")


@dataclass(frozen=True)
class Figure:
    """One measured figure; `refused` names a reason it fails whatever its value."""

    name: str
    value: float
    detail: str = ""
    refused: str = ""

    @property
    def unit(self) -> str:
        return GOALS[self.name][0]

    @property
    def goal(self) -> float:
        return GOALS[self.name][1]

    @property
    def met(self) -> bool:
        return not self.refused and self.value <= self.goal

    def line(self) -> str:
        """`NAME VALUE UNIT`, as the harness prints each figure."""
        return f"{self.name} {_number(self.value)} {self.unit}"


@dataclass
class Results:
    """A run's figures and what they were measured on."""

    mode: str
    sizes: dict[str, int | float]
    figures: list[Figure] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def table(self) -> str:
        """The short table: name, value, goal, met?"""
        rows = [("figure", "value", "goal", "met?")]
        for f in self.figures:
            goal = "-" if f.goal == float("inf") else f"<= {_number(f.goal)} {f.unit}"
            met = "yes" if f.met else "NO" + (f" ({f.refused})" if f.refused else "")
            rows.append((f.name, f"{_number(f.value)} {f.unit}", goal, met))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + f"  {row[3]}"
            for row in rows
        )

    def details(self) -> str:
        """What each figure was measured on, one line each."""
        return "\n".join(
            f"{f.name}: {f.detail}" + (f" [{f.refused}]" if f.refused else "")
            for f in self.figures
            if f.detail or f.refused
        )

    def write(self, path: Path) -> None:
        """The figures as JSON, with the machine and versions they were measured with."""
        document = {
            "mode": self.mode,
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "packages": {name: _version(name) for name in PACKAGES},
            "sizes": self.sizes,
            "figures": {
                f.name: {
                    "value": f.value,
                    "unit": f.unit,
                    "goal": None if f.goal == float("inf") else f.goal,
                    "met": f.met,
                    **({"detail": f.detail} if f.detail else {}),
                    **({"refused": f.refused} if f.refused else {}),
                }
                for f in self.figures
            },
            "argv": sys.argv[1:],
        }
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
