"""Turns botocore's errors into one error family that names the call and the resource."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

from rollout.engine.ports import AliasConflictError, PermanentTargetError, TargetError

CONFLICT_CODES = {"PreconditionFailedException", "ConflictException"}
# The codes with which AWS says the credentials are wrong, not the request.
CREDENTIAL_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "AuthFailure",
}
SSO_FAILURES = (SSOError, TokenRetrievalError)
NO_CREDENTIALS = (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError)


class AwsConfigError(PermanentTargetError):
    """AWS cannot be reached as configured (profile, credentials, token); `hint` says what to do.

    A TargetError, so that before traffic it ends a release as "failed before
    traffic" (exit 1) like any other refusal; a permanent one, so that a rollback
    does not retry what only a person can fix. The CLI adds the hint.
    """

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def config_error(exc: Exception, where: str, profile: str | None = None) -> AwsConfigError | None:
    """The configuration problem behind `exc`, if that is what it is."""
    profile = profile or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
    named = f" --profile {profile}" if profile else ""
    if isinstance(exc, ProfileNotFound):
        missing = exc.kwargs.get("profile", profile)
        return AwsConfigError(
            f"{where}: the AWS profile {missing!r} does not exist",
            "name one of `aws configure list-profiles` in AWS_PROFILE or in the plan's aws.profile",
        )
    if isinstance(exc, NO_CREDENTIALS):
        return AwsConfigError(
            f"{where}: no AWS credentials were found",
            f"run `aws sso login{named}`, set AWS_PROFILE (or aws.profile in the plan), or "
            "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        )
    if isinstance(exc, SSO_FAILURES):
        return AwsConfigError(
            f"{where}: the AWS SSO session is missing or has expired ({exc})",
            f"run `aws sso login{named}`",
        )
    if isinstance(exc, ClientError) and error_code(exc) in CREDENTIAL_CODES:
        message = exc.response.get("Error", {}).get("Message") or ""
        return AwsConfigError(
            f"{where}: AWS refused the credentials ({error_code(exc)}: {message})",
            f"refresh them (`aws sso login{named}`, or new temporary credentials) and check "
            "AWS_PROFILE",
        )
    return None


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
    except (ClientError, BotoCoreError) as exc:
        problem = config_error(exc, f"{operation} on {resource}")
        if problem is not None:
            raise problem from exc
        if isinstance(exc, BotoCoreError):
            raise TargetError(f"{operation} on {resource} failed: {exc}") from exc
        message = exc.response.get("Error", {}).get("Message") or str(exc)
        conflict = alias_write and error_code(exc) in CONFLICT_CODES
        kind: Callable[[str], TargetError] = AliasConflictError if conflict else TargetError
        raise kind(f"{operation} on {resource} failed: {error_code(exc)}: {message}") from exc


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
