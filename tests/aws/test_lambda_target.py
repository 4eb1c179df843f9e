"""The Lambda adapter against moto's server over real HTTP: what it reads, decides and writes.

moto does not enforce RevisionId, so the conflict mapping is tested with botocore's
Stubber and the error shape AWS documents.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from rollout.aws.clients import AwsAccess, client
from rollout.aws.lambda_target import LambdaCodeSource, LambdaTargetAdapter, code_sha256
from rollout.aws.pacing import RequestPacer
from rollout.engine.ports import AliasConflictError, TargetError
from rollout.engine.routing import AliasRouting, AliasState
from tests.aws.helpers import REGION, FakeClock, MotoAws, code_zip


def fast_pacer() -> RequestPacer:
    return RequestPacer(FakeClock(), rate=1000.0, burst=1000.0)


def adapter(
    aws: MotoAws, code: LambdaCodeSource | None, *, s3_client: Any = None
) -> LambdaTargetAdapter:
    access = AwsAccess(REGION, endpoint_url=aws.endpoint)
    return LambdaTargetAdapter(
        client(access, "lambda"),
        fast_pacer(),
        function="api",
        alias="live",
        code=code,
        region=REGION,
        s3_client=s3_client,
    )


def zip_source(tmp_path: Path, body: str) -> LambdaCodeSource:
    path = tmp_path / f"{body}.zip"
    path.write_bytes(code_zip(body))
    return LambdaCodeSource(zip_path=path)


def test_code_sha256_is_what_lambda_reports(aws: MotoAws) -> None:
    aws.function(body="v1")
    reported = aws.lam.get_function(FunctionName="api")["Configuration"]["CodeSha256"]
    assert code_sha256(code_zip("v1")) == reported


def test_first_deploy_publishes_and_creates_the_alias(aws: MotoAws, tmp_path: Path) -> None:
    aws.function(alias=None)
    target = adapter(aws, zip_source(tmp_path, "v1"))

    release = target.prepare({})
    assert release.changed and release.alias is None
    published = target.publish(release, {}, "first release")
    created = target.create_alias(published.version)

    # The sandbox's function already has version 1, published before any alias existed.
    assert published.version == "2"
    assert published.arn.endswith(":function:api:2")
    assert target.version_arn("2") == published.arn
    read = target.read_alias()
    assert read is not None
    assert read.routing == AliasRouting("2") == created.routing
    assert read.arn == created.arn and read.arn.endswith(":function:api:live")
    assert read.revision
    described = aws.lam.get_function(FunctionName="api", Qualifier="2")["Configuration"]
    assert described["Description"] == "first release"


def test_identical_zip_is_unchanged_without_publishing(aws: MotoAws, tmp_path: Path) -> None:
    aws.function(body="v1")
    release = adapter(aws, zip_source(tmp_path, "v1")).prepare({})

    assert not release.changed
    assert release.summary == "unchanged: alias already serves this code (version 1)"
    assert release.alias is not None and release.alias.routing == AliasRouting("1")
    assert aws.versions() == ["1"]  # moto would have published a duplicate; nothing was sent


def test_new_zip_is_changed_and_publishes_version_2(aws: MotoAws, tmp_path: Path) -> None:
    aws.function(body="v1")
    target = adapter(aws, zip_source(tmp_path, "v2"))

    release = target.prepare({})
    assert release.changed
    assert release.summary.startswith(f"code {code_sha256(code_zip('v2'))[:10]}…")
    assert "alias serves version 1" in release.summary
    published = target.publish(release, {}, "release 2")

    assert published.version == "2"
    assert published.arn.endswith(":function:api:2")
    served = aws.lam.get_function(FunctionName="api", Qualifier="2")["Configuration"]
    assert served["CodeSha256"] == code_sha256(code_zip("v2"))


def test_mid_shift_compares_with_the_primary_version(aws: MotoAws, tmp_path: Path) -> None:
    aws.function(body="v1")
    aws.new_version("api", "v2")
    aws.lam.update_alias(
        FunctionName="api",
        Name="live",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},
    )
    assert adapter(aws, zip_source(tmp_path, "v2")).prepare({}).changed
    assert not adapter(aws, zip_source(tmp_path, "v1")).prepare({}).changed


def test_alias_weights_round_trip_exactly_including_fractions(aws: MotoAws) -> None:
    aws.function()
    aws.new_version("api", "v2")
    target = adapter(aws, None)
    start = target.read_alias()
    assert start is not None and start.routing == AliasRouting("1")

    halfway = target.update_alias(AliasRouting("1", (("2", Decimal("12.5")),)), start)
    read = target.read_alias()
    assert read is not None
    assert read.routing == AliasRouting("1", (("2", Decimal("12.5")),))
    weights = aws.lam.get_alias(FunctionName="api", Name="live")["RoutingConfig"]
    assert weights == {"AdditionalVersionWeights": {"2": 0.125}}

    target.update_alias(AliasRouting("2"), halfway)
    done = target.read_alias()
    assert done is not None and done.routing == AliasRouting("2")
    assert done.routing.additional == ()


def test_update_alias_sends_the_revision_and_maps_a_refusal_to_conflict() -> None:
    """moto ignores RevisionId: Stubber with AWS's PreconditionFailedException shape."""
    lam = boto3.client("lambda", region_name=REGION)
    target = LambdaTargetAdapter(
        lam, fast_pacer(), function="api", alias="live", code=None, region=REGION
    )
    expected = AliasState(
        "arn:aws:lambda:us-east-1:123456789012:function:api:live", AliasRouting("1"), "rev-1"
    )
    with Stubber(lam) as stub:
        stub.add_client_error(
            "update_alias",
            service_error_code="PreconditionFailedException",
            service_message="The Revision Id provided does not match the latest Revision Id.",
            http_status_code=412,
            expected_params={
                "FunctionName": "api",
                "Name": "live",
                "FunctionVersion": "1",
                "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1}},
                "RevisionId": "rev-1",
            },
        )
        with pytest.raises(AliasConflictError, match=r"UpdateAlias on api:live .* failed"):
            target.update_alias(AliasRouting("1", (("2", Decimal(10)),)), expected)
        stub.assert_no_pending_responses()


def test_explicit_version_source_releases_without_publishing(aws: MotoAws) -> None:
    aws.function()
    aws.new_version("api", "v2")
    target = adapter(aws, LambdaCodeSource(version="2"))

    release = target.prepare({})
    published = target.publish(release, {}, "ignored")

    assert release.changed and release.existing_version == "2"
    assert published.version == "2" and published.arn.endswith(":function:api:2")
    assert aws.versions() == ["1", "2"]
    serving = adapter(aws, LambdaCodeSource(version="1")).prepare({})
    assert not serving.changed and serving.existing_version == "1"


def test_no_code_source_publishes_what_latest_holds(aws: MotoAws) -> None:
    aws.function()
    target = adapter(aws, None)
    assert not target.prepare({}).changed  # $LATEST holds what version 1 holds

    aws.lam.update_function_code(FunctionName="api", ZipFile=code_zip("v2"))
    release = target.prepare({})
    assert release.changed
    assert target.publish(release, {}, "from latest").version == "2"


def test_no_code_source_publishes_with_the_code_sha_prepare_compared(aws: MotoAws) -> None:
    """moto ignores PublishVersion's CodeSha256 precondition: Stubber checks what is sent."""
    aws.function()
    target = adapter(aws, None)
    aws.lam.update_function_code(FunctionName="api", ZipFile=code_zip("v2"))
    release = target.prepare({})
    aws.lam.update_function_code(FunctionName="api", ZipFile=code_zip("v3"))

    with Stubber(target.client) as stub:
        stub.add_client_error(
            "publish_version",
            service_error_code="PreconditionFailedException",
            service_message="CodeSha256 does not match",
            http_status_code=412,
            expected_params={
                "FunctionName": "api",
                "CodeSha256": code_sha256(code_zip("v2")),
                "Description": "stale",
            },
        )
        with pytest.raises(TargetError, match="PublishVersion on api:live"):
            target.publish(release, {}, "stale")
        stub.assert_no_pending_responses()


def test_s3_source_is_hashed_before_deciding_and_published_from_s3(aws: MotoAws) -> None:
    aws.function(body="v1")
    aws.s3.create_bucket(Bucket="artifacts")
    aws.s3.put_object(Bucket="artifacts", Key="same.zip", Body=code_zip("v1"))
    aws.s3.put_object(Bucket="artifacts", Key="new.zip", Body=code_zip("v2"))

    same = LambdaCodeSource(s3_bucket="artifacts", s3_key="same.zip")
    assert not adapter(aws, same, s3_client=aws.s3).prepare({}).changed

    target = adapter(
        aws, LambdaCodeSource(s3_bucket="artifacts", s3_key="new.zip"), s3_client=aws.s3
    )
    release = target.prepare({})
    assert release.changed
    assert target.publish(release, {}, "from s3").version == "2"
    served = aws.lam.get_function(FunctionName="api", Qualifier="2")["Configuration"]
    assert served["CodeSha256"] == code_sha256(code_zip("v2"))


def test_image_source_compares_the_served_image_and_publishes_a_new_one(aws: MotoAws) -> None:
    repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api"
    aws.lam.create_function(
        FunctionName="api",
        Role=aws.role,
        PackageType="Image",
        Code={"ImageUri": f"{repository}:v1"},
    )
    aws.lam.publish_version(FunctionName="api")
    aws.lam.create_alias(FunctionName="api", Name="live", FunctionVersion="1")

    assert not adapter(aws, LambdaCodeSource(image_uri=f"{repository}:v1")).prepare({}).changed

    target = adapter(aws, LambdaCodeSource(image_uri=f"{repository}:v2"))
    release = target.prepare({})
    assert release.changed and f"{repository}:v2" in release.summary
    assert target.publish(release, {}, "image").version == "2"
    served = aws.lam.get_function(FunctionName="api", Qualifier="2")["Code"]["ImageUri"]
    assert served == f"{repository}:v2"


def test_missing_function_reads_as_no_alias_and_errors_name_the_call(
    aws: MotoAws, tmp_path: Path
) -> None:
    target = adapter(aws, zip_source(tmp_path, "v1"))
    assert target.read_alias() is None
    with pytest.raises(TargetError, match=r"GetFunction on api:live \(us-east-1\) failed"):
        target.version_arn("1")
    with pytest.raises(TargetError, match=r"UpdateFunctionCode on api:live .*failed: .*api"):
        target.publish(target.prepare({}), {}, "nothing to update")


def test_every_call_waits_for_the_pacer(aws: MotoAws) -> None:
    aws.function()
    clock = FakeClock()
    access = AwsAccess(REGION, endpoint_url=aws.endpoint)
    target = LambdaTargetAdapter(
        client(access, "lambda"),
        RequestPacer(clock, rate=1.0, burst=1.0),
        function="api",
        alias="live",
        code=None,
        region=REGION,
    )
    target.prepare({})  # GetAlias, GetFunction of version 1, GetFunction of $LATEST
    assert clock.time == pytest.approx(2.0)


def test_unreadable_package_fails_check_inputs_before_any_call(tmp_path: Path) -> None:
    missing = LambdaTargetAdapter(
        None,
        fast_pacer(),
        function="api",
        alias="live",
        code=LambdaCodeSource(zip_path=tmp_path / "nope.zip"),
        region=REGION,
    )
    with pytest.raises(TargetError, match=r"cannot read .*nope\.zip"):
        missing.check_inputs()


def test_the_sandbox_refuses_a_stale_revision_as_lambda_does(aws: MotoAws) -> None:
    """moto alone ignores RevisionId; the sandbox makes it behave as AWS, which rollout needs."""
    aws.function()
    first = aws.lam.get_alias(FunctionName="api", Name="live")["RevisionId"]
    written = aws.lam.update_alias(
        FunctionName="api", Name="live", FunctionVersion="1", RevisionId=first
    )
    assert written["RevisionId"] != first

    with pytest.raises(aws.lam.exceptions.PreconditionFailedException):
        aws.lam.update_alias(FunctionName="api", Name="live", FunctionVersion="1", RevisionId=first)
