"""The values a region's stages read: `{region}`, terraform outputs, what earlier stages added.

A scope is immutable; a stage that learns something returns a new one. A name
that uses a placeholder the scope cannot fill is an error naming it, never a
resource name with braces left in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from rollout.plan.placeholders import (
    UnresolvedPlaceholderError,
    find_placeholders,
    render,
    render_known,
)


class UnfilledPlaceholderError(ValueError):
    """A placeholder the region's scope has no value for."""

    def __init__(self, message: str, name: str, pending: bool) -> None:
        super().__init__(message)
        self.name = name
        self.pending = pending  # an earlier stage gives it, once it has run


@dataclass(frozen=True)
class RegionScope:
    """One region's placeholder values."""

    region: str
    values: Mapping[str, str] = field(default_factory=dict)
    secret: frozenset[str] = frozenset()  # names whose values are never recorded
    # A preview's scope whose terraform outputs are known only after terraform applies.
    outputs_pending: bool = False

    def __post_init__(self) -> None:
        merged = {**self.values, "region": self.region}
        object.__setattr__(self, "values", MappingProxyType(merged))

    def with_values(
        self, values: Mapping[str, str], secret: frozenset[str] = frozenset()
    ) -> RegionScope:
        """A scope that also knows `values` (a stage's outputs), some of them secret."""
        return RegionScope(
            self.region, {**self.values, **values}, self.secret | secret, self.outputs_pending
        )

    def pending_outputs(self) -> RegionScope:
        """This scope, for a preview made before terraform applied: `{tf.NAME}` comes later."""
        return RegionScope(self.region, self.values, self.secret, outputs_pending=True)

    def render(self, text: str, where: str) -> str:
        """`text` with every placeholder filled; UnfilledPlaceholderError names what is missing.

        A sensitive value may not fill a name, a path or an alarm: those are recorded in the
        state and shown in every report. Hooks take them (they render their own commands)."""
        secret = [p.name for p in find_placeholders(text) if p.name in self.secret]
        if secret:
            raise UnfilledPlaceholderError(
                f"{where}: {{{secret[0]}}} is a sensitive terraform output; names, paths and "
                "alarms are recorded and shown, so only hooks may use it",
                secret[0],
                False,
            )
        try:
            return render(text, self.values)
        except UnresolvedPlaceholderError as exc:
            name = str(exc.args[0])
            if name.startswith("tf.") and not self.outputs_pending:
                problem = self._no_output(name, where)
            else:
                known = ", ".join("{" + k + "}" for k in sorted(self.values))
                problem = f"{where}: {{{name}}} has no value in {self.region} (known here: {known})"
            pending = self.outputs_pending and name.startswith("tf.")
            raise UnfilledPlaceholderError(problem, name, pending) from None

    def require_outputs(self, text: str, where: str) -> None:
        """Every `{tf.NAME}` in `text` (a hook's, rendered later) has a value here: a missing
        output is found before traffic moves, not once the hook runs."""
        for placeholder in find_placeholders(text):
            if placeholder.name.startswith("tf.") and placeholder.name not in self.values:
                raise UnfilledPlaceholderError(
                    self._no_output(placeholder.name, where),
                    placeholder.name,
                    self.outputs_pending,
                )

    def _no_output(self, name: str, where: str) -> str:
        outputs = sorted(k[3:] for k in self.values if k.startswith("tf."))
        return (
            f"{where}: terraform has no output {name[3:]!r} in {self.region} "
            f"(its outputs: {', '.join(outputs) or 'none'})"
        )

    def preview(self, text: str) -> str:
        """`text` for a person to read before the values exist: unknown placeholders stay."""
        return render_known(text, self.values)

    def recorded(self) -> dict[str, str]:
        """The values as the state records them: secret ones left out."""
        return {name: value for name, value in self.values.items() if name not in self.secret}
