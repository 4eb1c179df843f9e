"""A Lambda function alias as a release target: publish a version, read and set alias weights.

Lambda keeps `FunctionVersion` on the old version during a shift and sends the
new one its share through `AdditionalVersionWeights` (fractions of 1).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rollout.aws.errors import aws_call, call, call_unless_missing
from rollout.aws.pacing import Pacer
from rollout.aws.permissions import ApiCall, Scope, declared
from rollout.clock import SystemClock
from rollout.engine.ports import Clock, PublishedVersion, Release, TargetError
from rollout.engine.routing import HUNDRED, AliasRouting, AliasState

CENT = Decimal("0.01")
UPDATE_POLL_SECONDS = 0.5  # code updates take a second or two
UPDATE_TIMEOUT_SECONDS = 300.0

# Every call this module makes; the client refuses others and `rollout iam-policy` grants these.
CALLS = (
    ApiCall("lambda", "GetAlias", Scope.TARGET_FUNCTION),
    ApiCall("lambda", "GetFunction", Scope.TARGET_FUNCTION),
    ApiCall("lambda", "UpdateFunctionCode", Scope.TARGET_FUNCTION),
    ApiCall("lambda", "PublishVersion", Scope.TARGET_FUNCTION),
    ApiCall("lambda", "CreateAlias", Scope.TARGET_FUNCTION),
    ApiCall("lambda", "UpdateAlias", Scope.TARGET_FUNCTION),
)
# A package in S3 is read to compare its digest with what the alias serves; reading a given
# version of it is another IAM action.
CODE_CALLS = (ApiCall("s3", "GetObject", Scope.CODE_PACKAGE),)
VERSIONED_CODE_CALLS = (ApiCall("s3", "GetObject", Scope.CODE_PACKAGE, ("s3:GetObjectVersion",)),)
WAITERS = {"function_updated_v2": "GetFunction"}


@dataclass(frozen=True)
class LambdaCodeSource:
    """Where new code comes from; exactly one field is set (none: publish what $LATEST holds)."""

    zip_path: Path | None = None
    s3_bucket: str | None = None
    s3_key: str | None = None
    s3_version: str | None = None
    image_uri: str | None = None
    version: str | None = None


def code_sha256(package: bytes) -> str:
    """Lambda's CodeSha256 of a deployment package: base64 of its SHA-256."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode("ascii")


def _short(digest: str | None) -> str:
    return (digest or "none")[:10] + "…"


class LambdaTargetAdapter:
    """One function alias in one region."""

    revision_guarded = True  # UpdateAlias refuses a stale RevisionId
    reads_published_versions = False

    def __init__(
        self,
        lambda_client: Any,
        pacer: Pacer,
        *,
        function: str,
        alias: str,
        code: LambdaCodeSource | None,
        region: str,
        s3_client: Any = None,
        clock: Clock | None = None,
    ) -> None:
        self.client = declared(lambda_client, CALLS, WAITERS)
        self.pacer = pacer
        self.clock: Clock = clock or SystemClock()
        self.function = function
        self.alias = alias
        self.code = code or LambdaCodeSource()
        self.region = region
        self.s3 = declared(s3_client, CODE_CALLS)
        self._package: bytes | None = None
        self._function_arn: str | None = None
        self._latest_sha: str | None = None  # $LATEST's code as prepare saw it
        self._update_sent = False
        self._updated_sha: str | None = None  # the code an update sent, until it is published

    @property
    def resource(self) -> str:
        """`function:alias (region)`, as errors name the target."""
        return f"{self.function}:{self.alias} ({self.region})"

    def _call(
        self, operation: str, method: str, *, alias_write: bool = False, **arguments: Any
    ) -> Any:
        self.pacer.acquire(operation)
        return call(
            self.client, self.resource, operation, method, alias_write=alias_write, **arguments
        )

    def check_inputs(self) -> None:
        """A local package must be readable before anything is published."""
        if self.code.zip_path is not None:
            self._package_bytes()

    # -- reading -----------------------------------------------------------------------------

    def read_alias(self) -> AliasState | None:
        """The alias as Lambda reports it, or None."""
        self.pacer.acquire("GetAlias")
        got = call_unless_missing(
            self.client,
            self.resource,
            "GetAlias",
            "get_alias",
            FunctionName=self.function,
            Name=self.alias,
        )
        if got is None:
            return None
        weights = (got.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        additional = tuple(
            (str(version), (Decimal(str(weight)) * HUNDRED).quantize(CENT))
            for version, weight in sorted(weights.items())
        )
        self._function_arn = str(got["AliasArn"]).rsplit(":", 1)[0]
        return AliasState(
            str(got["AliasArn"]),
            AliasRouting(str(got["FunctionVersion"]), additional),
            got.get("RevisionId"),
        )

    def _configuration(self, qualifier: str) -> dict[str, Any]:
        return dict(
            self._call(
                "GetFunction", "get_function", FunctionName=self.function, Qualifier=qualifier
            )
        )

    def _check_version_exists(self, version: str) -> None:
        """A version to release must exist before any alias moves towards it."""
        self.pacer.acquire("GetFunction")
        found = call_unless_missing(
            self.client,
            self.resource,
            "GetFunction",
            "get_function",
            FunctionName=self.function,
            Qualifier=version,
        )
        if found is None:
            raise TargetError(
                f"{self.resource}: version {version} of {self.function} does not exist; "
                "name a published version in code.version"
            )

    def _package_bytes(self) -> bytes:
        if self._package is None:
            code = self.code
            if code.zip_path is not None:
                try:
                    self._package = code.zip_path.read_bytes()
                except OSError as exc:
                    raise TargetError(f"cannot read {code.zip_path}: {exc.strerror}") from None
            else:
                if self.s3 is None:
                    raise TargetError(f"{self.resource}: code in S3 needs an S3 client")
                arguments = {"Bucket": code.s3_bucket, "Key": code.s3_key}
                if code.s3_version:
                    arguments["VersionId"] = code.s3_version
                with aws_call("GetObject", f"s3://{code.s3_bucket}/{code.s3_key}"):
                    self._package = self.s3.get_object(**arguments)["Body"].read()
        assert self._package is not None
        return self._package

    def prepare(self, values: Mapping[str, str]) -> Release:
        """Decide, before any write, whether the alias already serves this code."""
        alias = self.read_alias()
        code = self.code
        if code.version is not None:
            self._check_version_exists(code.version)
            changed = alias is None or alias.routing.base != code.version
            summary = f"release existing version {code.version}"
            if not changed:
                summary = f"unchanged: alias already serves version {code.version}"
            return Release(alias, changed, summary, existing_version=code.version)
        if alias is None:
            return Release(None, True, "first deploy: the alias does not exist yet")
        served = self._configuration(alias.routing.base)
        if code.image_uri is not None:
            served_image = (served.get("Code") or {}).get("ImageUri")
            same = served_image == code.image_uri
            detail = f"image {code.image_uri}"
        else:
            wanted = self._wanted_sha()
            same = wanted == served["Configuration"]["CodeSha256"]
            detail = f"code {_short(wanted)}"
        version = alias.routing.base
        if same:
            return Release(
                alias, False, f"unchanged: alias already serves this code (version {version})"
            )
        served_sha = _short(served["Configuration"].get("CodeSha256"))
        return Release(alias, True, f"{detail} (alias serves version {version}, code {served_sha})")

    def _wanted_sha(self) -> str:
        if self.code.zip_path is not None or self.code.s3_bucket is not None:
            return code_sha256(self._package_bytes())
        latest = self._call("GetFunction", "get_function", FunctionName=self.function)
        self._latest_sha = str(latest["Configuration"]["CodeSha256"])
        return self._latest_sha

    # -- writing -------------------------------------------------------------------------------

    def begin_publish(self, release: Release) -> None:
        """Send the code update; Lambda applies it while other functions' updates go out."""
        if release.existing_version is not None or self._update_sent:
            return
        update = self._code_update()
        if update:
            updated = self._call(
                "UpdateFunctionCode", "update_function_code", FunctionName=self.function, **update
            )
            self._updated_sha = str(updated["CodeSha256"])
        self._update_sent = True

    def _code_update(self) -> dict[str, Any]:
        code = self.code
        if code.zip_path is not None:
            return {"ZipFile": self._package_bytes()}
        if code.s3_bucket is not None:
            update = {"S3Bucket": code.s3_bucket, "S3Key": code.s3_key}
            if code.s3_version:
                update["S3ObjectVersion"] = code.s3_version
            return update
        if code.image_uri is not None:
            return {"ImageUri": code.image_uri}
        return {}

    def _wait_for_update(self) -> None:
        """Poll until Lambda has applied the code update; TargetError if it failed or hung."""
        deadline = self.clock.monotonic() + UPDATE_TIMEOUT_SECONDS
        while True:
            # GetFunction has a quota of its own: waiting does not slow the alias writes.
            configuration = self._call("GetFunction", "get_function", FunctionName=self.function)[
                "Configuration"
            ]
            status = configuration.get("LastUpdateStatus") or "Successful"
            if status == "Successful":
                return
            if status == "Failed":
                reason = configuration.get("LastUpdateStatusReason") or "no reason given"
                raise TargetError(f"UpdateFunctionCode on {self.resource} failed: {reason}")
            if self.clock.monotonic() >= deadline:
                raise TargetError(
                    f"UpdateFunctionCode on {self.resource}: the update did not finish "
                    f"within {UPDATE_TIMEOUT_SECONDS:.0f} s"
                )
            self.clock.sleep(UPDATE_POLL_SECONDS)

    def publish(
        self, release: Release, values: Mapping[str, str], description: str
    ) -> PublishedVersion:
        """Upload the code (unless begin_publish did), wait for Lambda to apply it, publish."""
        if release.existing_version is not None:
            return PublishedVersion(
                release.existing_version, self.version_arn(release.existing_version)
            )
        self.begin_publish(release)
        if self._updated_sha is not None:
            self._wait_for_update()
            sha = self._updated_sha
        else:
            # The precondition is the code prepare compared, so a later change to $LATEST
            # makes Lambda refuse rather than publish code nobody looked at.
            sha = self._latest_sha or self._wanted_sha()
        self._update_sent, self._updated_sha = False, None
        published = self._call(
            "PublishVersion",
            "publish_version",
            FunctionName=self.function,
            CodeSha256=sha,
            Description=description,
        )
        self._function_arn = str(published["FunctionArn"]).rsplit(":", 1)[0]
        return PublishedVersion(str(published["Version"]), str(published["FunctionArn"]))

    def version_arn(self, version: str) -> str:
        """`arn:…:function:NAME:VERSION`."""
        if self._function_arn is None:
            got = self._call("GetFunction", "get_function", FunctionName=self.function)
            self._function_arn = str(got["Configuration"]["FunctionArn"])
        return f"{self._function_arn}:{version}"

    def content_digest(self, version: str) -> str:
        """`code 3q2+7w…`: the version's CodeSha256 (an image's digest for an image)."""
        got = self._configuration(version)
        return f"code {_short(got['Configuration'].get('CodeSha256'))}"

    def create_alias(self, version: str) -> AliasState:
        """Create the alias at `version`."""
        got = self._call(
            "CreateAlias",
            "create_alias",
            FunctionName=self.function,
            Name=self.alias,
            FunctionVersion=version,
        )
        return AliasState(str(got["AliasArn"]), AliasRouting(version), got.get("RevisionId"))

    def update_alias(self, routing: AliasRouting, expected: AliasState) -> AliasState:
        """Set the routing; Lambda refuses it if the alias changed since `expected` was read."""
        weights = {version: float(weight / HUNDRED) for version, weight in routing.additional}
        arguments: dict[str, Any] = {
            "FunctionName": self.function,
            "Name": self.alias,
            "FunctionVersion": routing.version,
            "RoutingConfig": {"AdditionalVersionWeights": weights},
        }
        if expected.revision:
            arguments["RevisionId"] = expected.revision
        got = self._call("UpdateAlias", "update_alias", alias_write=True, **arguments)
        return AliasState(str(got["AliasArn"]), routing, got.get("RevisionId"))
