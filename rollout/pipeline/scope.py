"""The values a region's stages read: `{region}`, terraform outputs, what earlier stages added.

A scope is immutable; a stage that learns something returns a new one. A name
that uses a placeholder the scope cannot fill is an error naming it, never a
resource name with braces left in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from rollout.plan.placeholders import UnresolvedPlaceholderError, render, render_known


class UnfilledPlaceholderError(ValueError):
    """A placeholder the region's scope has no value for."""


@dataclass(frozen=True)
class RegionScope:
    """One region's placeholder values."""

    region: str
    values: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        merged = {**self.values, "region": self.region}
        object.__setattr__(self, "values", MappingProxyType(merged))

    def with_values(self, values: Mapping[str, str]) -> RegionScope:
        """A scope that also knows `values` (a stage's outputs)."""
        return RegionScope(self.region, {**self.values, **values})

    def render(self, text: str, where: str) -> str:
        """`text` with every placeholder filled; UnfilledPlaceholderError names what is missing."""
        try:
            return render(text, self.values)
        except UnresolvedPlaceholderError as exc:
            raise UnfilledPlaceholderError(
                f"{where}: {{{exc.args[0]}}} has no value in {self.region} "
                f"(known here: {', '.join('{' + k + '}' for k in sorted(self.values))})"
            ) from None

    def preview(self, text: str) -> str:
        """`text` for a person to read before the values exist: unknown placeholders stay."""
        return render_known(text, self.values)

    def recorded(self) -> dict[str, str]:
        """The values as the state records them."""
        return dict(self.values)
