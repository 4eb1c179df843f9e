"""The AWS adapters against moto's server over real HTTP: what they read, decide and write.

moto lacks `publish_state_machine_version`; that path is tested with botocore's
Stubber and the response shape AWS documents.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from rollout.aws.alarms import CloudWatchAlarms
from rollout.aws.clients import AwsAccess, client
from rollout.aws.lambda_target import LambdaCodeSource, LambdaTargetAdapter, code_sha256
from rollout.aws.pacing import RequestPacer
from rollout.aws.stepfunctions_target import StepFunctionsTargetAdapter
from rollout.engine.ports import Release, TargetError
from rollout.engine.routing import AliasRouting
from tests.e2e.world import World, code_zip
from tests.engine.fakes import FakeClock


def pacer() -> RequestPacer:
    return RequestPacer(FakeClock(), rate=1000.0, burst=1000.0)


def lambda_adapter(
    endpoint: str, code: LambdaCodeSource | None, **more: object
) -> LambdaTargetAdapter:
    access = AwsAccess("us-east-1", endpoint_url=endpoint)
    return LambdaTargetAdapter(
        client(access, "lambda"),
        pacer(),
        function="api",
        alias="live",
        code=code,
        region="us-east-1",
        **more,  # type: ignore[arg-type]
    )


def test_code_sha256_is_what_lambda_reports(aws_endpoint: str) -> None:
    world = World(aws_endpoint)
    world.function("api", body="v1")
    reported = world.lam.get_function(FunctionName="api")["Configuration"]["CodeSha256"]
    assert code_sha256(code_zip("v1")) == reported


def test_identical_zip_is_unchanged_and_a_new_one_publishes_version_2(
    aws_endpoint: str, tmp_path: Path
) -> None:
    World(aws_endpoint).function("api", body="v1")
    same = tmp_path / "same.zip"
    same.write_bytes(code_zip("v1"))
    new = tmp_path / "new.zip"
    new.write_bytes(code_zip("v2"))

    unchanged = lambda_adapter(aws_endpoint, LambdaCodeSource(zip_path=same)).prepare({})
    assert not unchanged.changed and "version 1" in unchanged.summary

    adapter = lambda_adapter(aws_endpoint, LambdaCodeSource(zip_path=new))
    release = adapter.prepare({})
    assert release.changed
    published = adapter.publish(release, {}, "test")
    assert published.version == "2"
    assert published.arn.endswith(":function:api:2")


def test_alias_weights_round_trip_exactly_including_fractions(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.lam.update_function_code(FunctionName="api", ZipFile=code_zip("v2"))
    world.lam.publish_version(FunctionName="api")
    adapter = lambda_adapter(aws_endpoint, None)
    start = adapter.read_alias()
    assert start is not None and start.routing == AliasRouting("1")

    halfway = AliasRouting("1", (("2", Decimal("12.5")),))
    after = adapter.update_alias(halfway, start)
    assert adapter.read_alias().routing == halfway  # type: ignore[union-attr]
    adapter.update_alias(AliasRouting("2"), after)
    assert world.lambda_routing("api") == ("2", {})


def test_explicit_version_source_releases_without_publishing(aws_endpoint: str) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.lam.update_function_code(FunctionName="api", ZipFile=code_zip("v2"))
    world.lam.publish_version(FunctionName="api")
    adapter = lambda_adapter(aws_endpoint, LambdaCodeSource(version="2"))

    release = adapter.prepare({})
    published = adapter.publish(release, {}, "test")

    assert release.changed and published.version == "2"
    assert world.versions("api") == ["1", "2"]
    assert not lambda_adapter(aws_endpoint, LambdaCodeSource(version="1")).prepare({}).changed


def test_no_code_source_publishes_what_latest_holds(aws_endpoint: str) -> None:
    world = World(aws_endpoint)
    world.function("api")
    adapter = lambda_adapter(aws_endpoint, None)
    assert not adapter.prepare({}).changed  # $LATEST is what version 1 holds

    world.lam.update_function_code(FunctionName="api", ZipFile=code_zip("v2"))
    release = adapter.prepare({})
    assert release.changed
    assert adapter.publish(release, {}, "test").version == "2"


def test_s3_source_is_hashed_before_deciding(aws_endpoint: str) -> None:
    World(aws_endpoint).function("api", body="v1")
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=aws_endpoint)
    s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="api.zip", Body=code_zip("v1"))
    source = LambdaCodeSource(s3_bucket="artifacts", s3_key="api.zip")
    assert not lambda_adapter(aws_endpoint, source, s3_client=s3).prepare({}).changed


def test_missing_function_error_names_the_call(aws_endpoint: str, tmp_path: Path) -> None:
    World(aws_endpoint)
    adapter = lambda_adapter(aws_endpoint, None)
    assert adapter.read_alias() is None
    with pytest.raises(TargetError, match=r"GetFunction on api:live \(us-east-1\) failed"):
        adapter.version_arn("1")


def sfn_adapter(endpoint: str, definition: Path | None) -> StepFunctionsTargetAdapter:
    access = AwsAccess("us-east-1", endpoint_url=endpoint)
    return StepFunctionsTargetAdapter(
        client(access, "stepfunctions"),
        client(access, "sts"),
        pacer(),
        state_machine="flow",
        alias="prod",
        definition_path=definition,
        region="us-east-1",
    )


def test_definition_equal_as_json_is_unchanged_and_placeholders_are_rendered(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    machine = world.state_machine("flow")
    same = tmp_path / "same.json"
    same.write_text('{"States": {"A": {"End": true, "Type": "Pass"}},\n  "StartAt": "A"}')
    assert not sfn_adapter(aws_endpoint, same).prepare({}).changed

    pinned = tmp_path / "pinned.asl.json"
    pinned.write_text(
        json.dumps(
            {
                "StartAt": "Call",
                "States": {
                    "Call": {"Type": "Task", "Resource": "{targets.api.version_arn}", "End": True}
                },
            }
        )
    )
    values = {"targets.api.version_arn": "arn:aws:lambda:us-east-1:123456789012:function:api:7"}
    adapter = sfn_adapter(aws_endpoint, pinned)
    release = adapter.prepare(values)
    assert release.changed
    version = adapter.publish(release, values, "test").version
    published = json.loads(world.sfn.describe_state_machine(stateMachineArn=version)["definition"])
    assert published["States"]["Call"]["Resource"].endswith(":function:api:7")
    assert version == f"{machine}:2"


def test_stepfunctions_alias_routing_round_trips(aws_endpoint: str, tmp_path: Path) -> None:
    world = World(aws_endpoint)
    machine = world.state_machine("flow")
    changed = tmp_path / "flow.json"
    changed.write_text(json.dumps({"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}))
    adapter = sfn_adapter(aws_endpoint, changed)
    release = adapter.prepare({})
    new = adapter.publish(release, {}, "test").version
    assert release.alias is not None

    adapter.update_alias(AliasRouting(f"{machine}:1", ((new, Decimal(10)),)), release.alias)

    assert world.sfn_routing(machine) == {"1": 90, "2": 10}
    assert adapter.read_alias().routing.shares() == {f"{machine}:1": 90, new: 10}  # type: ignore[union-attr]


def test_invalid_definition_fails_before_any_call(aws_endpoint: str, tmp_path: Path) -> None:
    world = World(aws_endpoint)
    machine = world.state_machine("flow")
    broken = tmp_path / "broken.json"
    broken.write_text('{"StartAt": "A", "States": {')
    with pytest.raises(TargetError, match=r"broken\.json is not valid"):
        sfn_adapter(aws_endpoint, broken).prepare({})
    assert world.sfn_routing(machine) == {"1": 100}


def test_publishing_without_a_definition_uses_publish_state_machine_version() -> None:
    """moto 5.2 has no PublishStateMachineVersion: Stubber with AWS's response shape."""
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:flow"
    adapter = StepFunctionsTargetAdapter(
        sfn,
        None,
        pacer(),
        state_machine=machine,
        alias="prod",
        definition_path=None,
        region="us-east-1",
    )
    with Stubber(sfn) as stub:
        stub.add_response(
            "publish_state_machine_version",
            {"creationDate": "2026-11-26T00:00:00Z", "stateMachineVersionArn": f"{machine}:4"},
            {"stateMachineArn": machine, "description": "release 9"},
        )
        published = adapter.publish(Release(None, True, "first deploy"), {}, "release 9")
    assert published.version == f"{machine}:4"


def test_alarm_states_are_read_in_batches_of_100(aws_endpoint: str) -> None:
    world = World(aws_endpoint)
    for name in ("a-1", "a-2", "a-3"):
        world.alarm(name)
    world.set_alarm("a-2", "ALARM")
    names = ["a-1", "a-2", "a-3"] + [f"missing-{n:03d}" for n in range(247)]
    alarms = CloudWatchAlarms(world.cw, "us-east-1")

    states = alarms.states(names)

    assert alarms.calls == 3
    assert states == {"a-1": "OK", "a-2": "ALARM", "a-3": "OK"}


def test_role_is_assumed_per_region(aws_endpoint: str) -> None:
    access = AwsAccess(
        "eu-west-1",
        endpoint_url=aws_endpoint,
        role_arn="arn:aws:iam::123456789012:role/deployer",
    )
    identity = client(access, "sts").get_caller_identity()
    assert ":assumed-role/deployer/rollout" in identity["Arn"]


def test_yaml_definition_is_read_like_json(aws_endpoint: str, tmp_path: Path) -> None:
    World(aws_endpoint).state_machine("flow")
    same = tmp_path / "flow.asl.yaml"
    same.write_text("StartAt: A\nStates:\n  A: {Type: Pass, End: true}\n")
    assert not sfn_adapter(aws_endpoint, same).prepare({}).changed


def test_image_source_compares_the_served_image_and_publishes_a_new_one(aws_endpoint: str) -> None:
    world = World(aws_endpoint)
    repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api"
    world.lam.create_function(
        FunctionName="api",
        Role=world.role,
        PackageType="Image",
        Code={"ImageUri": f"{repository}:v1"},
    )
    world.lam.publish_version(FunctionName="api")
    world.lam.create_alias(FunctionName="api", Name="live", FunctionVersion="1")

    same = lambda_adapter(aws_endpoint, LambdaCodeSource(image_uri=f"{repository}:v1"))
    assert not same.prepare({}).changed

    new = lambda_adapter(aws_endpoint, LambdaCodeSource(image_uri=f"{repository}:v2"))
    release = new.prepare({})
    assert release.changed and f"{repository}:v2" in release.summary
    assert new.publish(release, {}, "test").version == "2"
    served = world.lam.get_function(FunctionName="api", Qualifier="2")["Code"]["ImageUri"]
    assert served == f"{repository}:v2"


def test_inputs_are_checked_before_any_call(tmp_path: Path) -> None:
    broken = tmp_path / "flow.json"
    broken.write_text('{"StartAt": "A", "States": {"A": {"Resource": "{targets.api.version_arn}"')
    offline = StepFunctionsTargetAdapter(
        None,
        None,
        pacer(),
        state_machine="flow",
        alias="prod",
        definition_path=broken,
        region="us-east-1",
    )
    with pytest.raises(TargetError, match="is not valid"):
        offline.check_inputs()
    broken.write_text(
        '{"StartAt": "A", "States": {"A": {"Resource": "{targets.api.version_arn}"}}}'
    )
    offline.check_inputs()  # placeholders of earlier targets are fine before they exist
    broken.write_text('{"StartAt": "A", "States": {"A": {"Resource": "{typo}"}}}')
    with pytest.raises(TargetError, match=r"uses \{typo\}"):
        offline.check_inputs()
    missing = LambdaTargetAdapter(
        None,
        pacer(),
        function="api",
        alias="live",
        code=LambdaCodeSource(zip_path=tmp_path / "nope.zip"),
        region="us-east-1",
    )
    with pytest.raises(TargetError, match="cannot read"):
        missing.check_inputs()
