"""Which regions and targets a command acts on: the one filter every command uses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rollout.plan.model import Plan, Target


class FilterError(ValueError):
    """A --region or --target filter that names nothing in the plan."""


@dataclass(frozen=True)
class Selection:
    """The regions and targets chosen with --region/--target (all of them when empty)."""

    regions: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()

    def checked(self, plan: Plan, *, recorded_regions: Iterable[str] = ()) -> Selection:
        """This selection, or FilterError naming a region or target the plan does not have."""
        _check("region", self.regions, [*plan.regions, *recorded_regions])
        _check("target", self.targets, [t.name for t in plan.targets])
        return self

    def has_region(self, region: str) -> bool:
        return not self.regions or region in self.regions

    def has_target(self, name: str) -> bool:
        return not self.targets or name in self.targets

    def waves(self, plan: Plan) -> list[list[str]]:
        """The plan's waves, narrowed to the chosen regions; empty waves dropped."""
        waves = [[r for r in wave if self.has_region(r)] for wave in plan.wave_list()]
        return [wave for wave in waves if wave]

    def plan_targets(self, plan: Plan) -> list[Target]:
        """The plan's chosen targets, in plan order."""
        return [t for t in plan.targets if self.has_target(t.name)]


def _check(what: str, wanted: Sequence[str], known: Sequence[str]) -> None:
    unknown = [name for name in wanted if name not in known]
    if unknown:
        listed = ", ".join(dict.fromkeys(known))
        raise FilterError(f"no {what} named {unknown[0]!r} in the plan (it has {listed})")
