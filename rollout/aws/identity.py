"""Who rollout acts as in a region: the account and principal, read once per region.

`plan` and the confirmation prompt show them before anything moves, so an
operator sees which account a release would change; a missing profile or an
expired token is found here, before any other call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from rollout.aws.errors import aws_call
from rollout.aws.permissions import ApiCall, Scope, declared

# GetCallerIdentity needs no permission and names no resource; it is listed so that the policy
# says everything rollout calls.
CALLS = (ApiCall("sts", "GetCallerIdentity", Scope.ANY),)


@dataclass(frozen=True)
class CallerIdentity:
    """The account and the principal's ARN."""

    account: str
    arn: str


class CallerIdentityReader:
    """GetCallerIdentity of one region, asked once and remembered.

    It answers `get_caller_identity()` like an STS client, so the Step Functions
    adapter can build state machine ARNs without a call of its own per target.
    """

    def __init__(self, sts_client: Any, region: str) -> None:
        self.sts = declared(sts_client, CALLS)
        self.region = region
        self._answer: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def get_caller_identity(self) -> dict[str, Any]:
        """STS's answer, fetched on first use."""
        with self._lock:
            if self._answer is None:
                with aws_call("GetCallerIdentity", f"AWS in {self.region}"):
                    self._answer = dict(self.sts.get_caller_identity())
            return self._answer

    def identity(self) -> CallerIdentity:
        """The account and principal rollout acts as here."""
        answer = self.get_caller_identity()
        return CallerIdentity(str(answer["Account"]), str(answer["Arn"]))
