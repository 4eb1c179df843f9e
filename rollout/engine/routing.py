"""Alias routing as rollout reasons about it, the same for Lambda and Step Functions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class AliasRouting:
    """An alias's traffic: `additional` versions get their percentages, `version` the rest.

    Versions are whatever the service names them by: Lambda version numbers
    ("7"), Step Functions version ARNs.
    """

    version: str
    additional: tuple[tuple[str, Decimal], ...] = ()

    @classmethod
    def towards(cls, old: str, new: str, weight: Decimal) -> AliasRouting:
        """`weight` percent on `new`, the rest on `old`; all on `new` at 100."""
        if weight >= HUNDRED or old == new:
            return cls(new)
        if weight <= 0:
            return cls(old)
        return cls(old, ((new, weight),))

    def weight_of(self, version: str) -> Decimal:
        """The percentage of traffic `version` receives."""
        extra = sum((w for v, w in self.additional if v != self.version), Decimal(0))
        if version == self.version:
            return HUNDRED - extra
        return sum((w for v, w in self.additional if v == version), Decimal(0))

    def shares(self) -> dict[str, Decimal]:
        """`{version: percent}` for every version with traffic."""
        versions = [self.version, *(v for v, _ in self.additional)]
        return {v: self.weight_of(v) for v in versions if self.weight_of(v) > 0}

    @property
    def base(self) -> str:
        """The version with the largest share: what a release moves traffic away from.

        Step Functions may list a canary first, and a Lambda alias may send most of
        its traffic to an additional version; on a tie, the version written first.
        """
        shares = self.shares()
        return max(shares, key=lambda v: (shares[v], v == self.version), default=self.version)

    def same_as(self, other: AliasRouting | None) -> bool:
        """Whether both send the same share of traffic to the same versions, however written."""
        return other is not None and self.shares() == other.shares()

    def parts(self) -> list[tuple[str, Decimal]]:
        """Each version with its percentage, the alias's own version first, as AWS lists them."""
        return [(self.version, self.weight_of(self.version)), *self.additional]

    def describe(self) -> str:
        """`7: 90%, 8: 10%`."""
        return ", ".join(f"{_short(v)}: {_percent(w)}" for v, w in self.parts())


def _short(version: str) -> str:
    return version.rsplit(":", 1)[-1]


def version_number(version: str) -> int:
    """7 for Lambda's "7" and for a Step Functions version ARN ending in ":7"."""
    return int(_short(version))


def _percent(weight: Decimal) -> str:
    text = f"{weight:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


@dataclass(frozen=True)
class AliasState:
    """An alias as last read: its routing and the revision to send with the next write."""

    arn: str
    routing: AliasRouting
    revision: str | None = None
