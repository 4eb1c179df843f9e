"""The AWS calls each adapter may make, declared next to the calls, and a client that allows no
other: `rollout iam-policy` is built from the same declarations, so the two cannot drift."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name

# boto3's service name -> the prefix IAM gives its actions.
IAM_PREFIX = {
    "lambda": "lambda",
    "stepfunctions": "states",
    "cloudwatch": "cloudwatch",
    "sts": "sts",
    "s3": "s3",
    "dynamodb": "dynamodb",
}


class Scope(enum.Enum):
    """What an IAM statement for a call may name as its resource, filled in from the plan."""

    ANY = "any"  # the action has no resource-level permission: "*"
    TARGET_FUNCTION = "target_function"  # a released function, its versions and aliases
    TARGET_STATE_MACHINE = "target_state_machine"  # a released state machine and its qualifiers
    CODE_PACKAGE = "code_package"  # a target's deployment package in S3
    STATE_OBJECTS = "state_objects"  # the plan's documents in the state bucket
    STATE_BUCKET = "state_bucket"  # the state bucket itself (listing, limited to the plan's prefix)
    LOCK_TABLE = "lock_table"  # the DynamoDB lock table (limited to the plan's key)
    HOOK_FUNCTION = "hook_function"  # a function a Lambda hook invokes
    HOOK_STATE_MACHINE = "hook_state_machine"  # a state machine a Step Functions hook starts
    HOOK_EXECUTION = "hook_execution"  # the executions such a hook started


@dataclass(frozen=True)
class ApiCall:
    """One AWS operation an adapter calls, what it acts on, and the IAM actions it needs."""

    service: str  # boto3's name: lambda, stepfunctions, ...
    operation: str  # the API's name: GetAlias, UpdateStateMachine, ...
    scope: Scope
    # The IAM actions AWS checks for it; `prefix:Operation` unless AWS says otherwise.
    needs: tuple[str, ...] = field(default=())

    @property
    def actions(self) -> tuple[str, ...]:
        return self.needs or (f"{IAM_PREFIX[self.service]}:{self.operation}",)

    @property
    def method(self) -> str:
        """The boto3 client method: get_alias, update_state_machine, ..."""
        return str(xform_name(self.operation))


class UndeclaredCallError(AttributeError):
    """An adapter reached for an AWS call it does not declare: a bug, and a policy gap."""


class DeclaredClient:
    """A boto3 client narrowed to the declared calls (and `waiters`, named with the operation
    each one polls); anything else raises UndeclaredCallError instead of reaching AWS."""

    def __init__(
        self, client: Any, calls: Iterable[ApiCall], waiters: Mapping[str, str] | None = None
    ) -> None:
        self._client = client
        self._methods = {call.method for call in calls}
        operations = {call.operation for call in calls}
        self._waiters = dict(waiters or {})
        for waiter, operation in self._waiters.items():
            if operation not in operations:
                raise UndeclaredCallError(f"the waiter {waiter} polls undeclared {operation}")

    def __getattr__(self, name: str) -> Any:
        if name in self._methods or name in ("meta", "exceptions"):
            return getattr(self._client, name)
        raise UndeclaredCallError(f"{name} is not among the declared AWS calls of this adapter")

    def get_waiter(self, name: str) -> Any:
        if name not in self._waiters:
            raise UndeclaredCallError(f"the waiter {name} is not declared")
        return self._client.get_waiter(name)

    def get_paginator(self, name: str) -> Any:
        if name not in self._methods:
            raise UndeclaredCallError(f"{name} is not among the declared AWS calls to paginate")
        return self._client.get_paginator(name)


def declared(
    client: Any, calls: Iterable[ApiCall], waiters: Mapping[str, str] | None = None
) -> Any:
    """`client` narrowed to `calls`; None stays None (an adapter built without that client)."""
    if client is None or isinstance(client, DeclaredClient):
        return client
    return DeclaredClient(client, calls, waiters)
