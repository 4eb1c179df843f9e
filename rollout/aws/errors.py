"""Turns botocore's errors into one error family that names the call and the resource."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from rollout.engine.ports import AliasConflictError, TargetError

CONFLICT_CODES = {"PreconditionFailedException", "ConflictException"}


# Lambda says ResourceNotFoundException, Step Functions ResourceNotFound.
NOT_FOUND_CODES = ("ResourceNotFoundException", "ResourceNotFound")


def error_code(exc: ClientError) -> str:
    """The AWS error code of a ClientError."""
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def aws_call(operation: str, resource: str, *, alias_write: bool = False) -> Iterator[None]:
    """Re-raise AWS failures of `operation` on `resource` as TargetError.

    On an alias write, AWS's refusal of a stale revision becomes AliasConflictError.
    """
    try:
        yield
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message") or str(exc)
        conflict = alias_write and error_code(exc) in CONFLICT_CODES
        kind: Callable[[str], TargetError] = AliasConflictError if conflict else TargetError
        raise kind(f"{operation} on {resource} failed: {error_code(exc)}: {message}") from exc
    except BotoCoreError as exc:
        raise TargetError(f"{operation} on {resource} failed: {exc}") from exc


def call(client: Any, resource: str, operation: str, method: str, **arguments: Any) -> Any:
    """One AWS call; its failures become TargetError naming the call and the resource."""
    alias_write = bool(arguments.pop("alias_write", False))
    with aws_call(operation, resource, alias_write=alias_write):
        return getattr(client, method)(**arguments)


def call_unless_missing(
    client: Any, resource: str, operation: str, method: str, **arguments: Any
) -> Any | None:
    """Like `call`, but None when AWS answers that the resource does not exist."""
    with aws_call(operation, resource):
        try:
            return getattr(client, method)(**arguments)
        except ClientError as exc:
            if error_code(exc) in NOT_FOUND_CODES:
                return None
            raise
