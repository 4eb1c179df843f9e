"""What every command starts from: the plan, the chosen regions and targets, the endpoint, the
clock, and the typed results the CLI renders as text or JSON."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rollout.engine import events as ev
from rollout.engine.ports import Clock
from rollout.engine.waves import stamped_sink
from rollout.pipeline.build import Builder
from rollout.pipeline.selection import Selection
from rollout.plan.load import LoadedPlan
from rollout.state.backends import open_store
from rollout.state.store import StateStore


class TargetFilterError(ValueError):
    """--target where a region's targets must act together (rollback, resume)."""


@dataclass(frozen=True)
class CommandContext:
    """The parsed options shared by the commands that act on a plan."""

    loaded: LoadedPlan
    selection: Selection
    clock: Clock
    endpoint_url: str | None = None

    @property
    def name(self) -> str:
        return self.loaded.plan.name

    @property
    def plan_file(self) -> str:
        return str(self.loaded.file)

    def builder(self) -> Builder:
        return Builder(self.loaded, self.selection, self.clock, self.endpoint_url)

    def store(self) -> StateStore:
        return open_store(self.loaded, self.endpoint_url)

    def whole_regions(self, acting: str) -> None:
        """Refuse --target for a command that acts on whole regions (`acting` says how)."""
        if self.selection.targets:
            raise TargetFilterError(
                f"a region's targets are one release: {acting} regions with --region, not --target"
            )

    def check_credentials(self, builder: Builder, regions: Iterable[str]) -> None:
        """Ask who rollout acts as in each region: AwsConfigError (exit 1) before any change."""
        for region in regions:
            builder.region(region).caller().identity()

    def stamped(self, sink: ev.EventSink, rollout_id: str) -> ev.EventSink:
        """`sink`, fed from any thread, with each event stamped with the time and rollout."""
        return stamped_sink(sink, self.clock, rollout_id)
