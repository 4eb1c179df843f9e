"""The Step Functions adapter against moto's server over real HTTP.

moto 5.2 lacks `publish_state_machine_version`; that path is tested with botocore's
Stubber and the response shape AWS documents.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from rollout.aws.clients import AwsAccess, client
from rollout.aws.pacing import RequestPacer
from rollout.aws.stepfunctions_target import StepFunctionsTargetAdapter
from rollout.engine.ports import Release, TargetError
from rollout.engine.routing import AliasRouting
from tests.aws.helpers import FIRST_DEFINITION, REGION, FakeClock, MotoAws

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:flow"
PINNED = {
    "StartAt": "Call",
    "States": {"Call": {"Type": "Task", "Resource": "{targets.api.version_arn}", "End": True}},
}


def fast_pacer() -> RequestPacer:
    return RequestPacer(FakeClock(), rate=1000.0, burst=1000.0)


def adapter(
    aws: MotoAws, definition: Path | None, *, sfn: Any = None, machine: str = "flow"
) -> StepFunctionsTargetAdapter:
    access = AwsAccess(REGION, endpoint_url=aws.endpoint)
    return StepFunctionsTargetAdapter(
        sfn or client(access, "stepfunctions"),
        client(access, "sts"),
        fast_pacer(),
        state_machine=machine,
        alias="prod",
        definition_path=definition,
        region=REGION,
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def counting(aws: MotoAws) -> tuple[Any, list[str]]:
    """A Step Functions client of moto that records the name of every call it makes."""
    sfn = aws.client("stepfunctions")
    calls: list[str] = []
    sfn.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    return sfn, calls


def test_definition_equal_as_json_is_unchanged(aws: MotoAws, tmp_path: Path) -> None:
    aws.state_machine()
    reordered = write(
        tmp_path, "flow.json", '{"States": {"A": {"End": true, "Type": "Pass"}},\n  "StartAt": "A"}'
    )
    release = adapter(aws, reordered).prepare({})

    assert not release.changed
    assert release.summary == "unchanged: alias already serves this definition (version 1)"
    assert release.alias is not None and release.alias.routing == AliasRouting(f"{MACHINE}:1")


def test_yaml_definition_is_read_like_json(aws: MotoAws, tmp_path: Path) -> None:
    aws.state_machine()
    same = write(tmp_path, "flow.asl.yaml", "StartAt: A\nStates:\n  A: {Type: Pass, End: true}\n")
    assert not adapter(aws, same).prepare({}).changed


def test_changed_definition_is_changed(aws: MotoAws, tmp_path: Path) -> None:
    aws.state_machine()
    other = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
    release = adapter(aws, write(tmp_path, "flow.json", json.dumps(other))).prepare({})
    assert release.changed
    assert "differs from version 1" in release.summary


def test_placeholders_are_rendered_into_the_published_version(aws: MotoAws, tmp_path: Path) -> None:
    machine = aws.state_machine()
    target = adapter(aws, write(tmp_path, "pinned.asl.json", json.dumps(PINNED)))
    values = {"targets.api.version_arn": "arn:aws:lambda:us-east-1:123456789012:function:api:7"}

    release = target.prepare(values)
    published = target.publish(release, values, "release 2")

    assert release.changed
    assert published.version == published.arn == f"{machine}:2"
    described = aws.sfn.describe_state_machine(stateMachineArn=published.arn)
    resource = json.loads(described["definition"])["States"]["Call"]["Resource"]
    assert resource == "arn:aws:lambda:us-east-1:123456789012:function:api:7"


def test_unresolved_placeholder_names_the_file_and_the_placeholder(
    aws: MotoAws, tmp_path: Path
) -> None:
    aws.state_machine()
    target = adapter(aws, write(tmp_path, "pinned.json", json.dumps(PINNED)))
    with pytest.raises(TargetError, match=r"pinned\.json uses \{targets\.api\.version_arn\}"):
        target.prepare({})


def test_invalid_definition_fails_before_any_call(aws: MotoAws, tmp_path: Path) -> None:
    machine = aws.state_machine()
    sfn, calls = counting(aws)
    broken = write(tmp_path, "broken.json", '{"StartAt": "A", "States": {')

    with pytest.raises(TargetError, match=r"broken\.json is not valid: Expecting"):
        adapter(aws, broken, sfn=sfn).prepare({})

    assert calls == []
    with pytest.raises(aws.sfn.exceptions.StateMachineDoesNotExist):
        aws.sfn.describe_state_machine(stateMachineArn=f"{machine}:2")


def test_alias_routing_round_trips_90_10(aws: MotoAws, tmp_path: Path) -> None:
    machine = aws.state_machine()
    other = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
    target = adapter(aws, write(tmp_path, "flow.json", json.dumps(other)))
    release = target.prepare({})
    new = target.publish(release, {}, "release 2").version
    assert release.alias is not None

    shifted = target.update_alias(
        AliasRouting(f"{machine}:1", ((new, Decimal(10)),)), release.alias
    )

    assert aws.sfn_routing(machine) == {"1": 90, "2": 10}
    read = target.read_alias()
    assert read is not None and read.routing == shifted.routing
    assert read.routing == AliasRouting(f"{machine}:1", ((new, Decimal(10)),))

    target.update_alias(AliasRouting(new), read)
    assert aws.sfn_routing(machine) == {"2": 100}


def test_fractional_weight_is_refused_before_the_call(aws: MotoAws) -> None:
    machine = aws.state_machine()
    sfn, calls = counting(aws)
    target = adapter(aws, None, sfn=sfn)
    current = target.read_alias()
    assert current is not None

    with pytest.raises(TargetError, match=r"flow:prod .*whole-number weights, not 12\.5%"):
        target.update_alias(
            AliasRouting(f"{machine}:1", ((f"{machine}:2", Decimal("12.5")),)), current
        )
    assert calls == ["DescribeStateMachineAlias"]


def test_first_deploy_creates_the_alias(aws: MotoAws, tmp_path: Path) -> None:
    machine = aws.state_machine(alias=None)
    target = adapter(aws, write(tmp_path, "flow.json", json.dumps(FIRST_DEFINITION)))

    release = target.prepare({})
    assert release.changed and release.alias is None
    created = target.create_alias(f"{machine}:1")

    assert created.arn == f"{machine}:prod"
    read = target.read_alias()
    assert read is not None and read.routing == AliasRouting(f"{machine}:1")


def test_without_definition_compares_the_current_definition(aws: MotoAws) -> None:
    machine = aws.state_machine()
    assert not adapter(aws, None).prepare({}).changed

    other = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
    aws.sfn.update_state_machine(stateMachineArn=machine, definition=json.dumps(other))
    assert adapter(aws, None, machine=machine).prepare({}).changed


def test_missing_state_machine_error_names_the_call(aws: MotoAws) -> None:
    with pytest.raises(TargetError, match=r"DescribeStateMachineAlias on flow:prod .*failed"):
        adapter(aws, None).read_alias()


def test_publishing_without_a_definition_uses_publish_state_machine_version() -> None:
    """moto 5.2 has no PublishStateMachineVersion: Stubber with AWS's response shape."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    target = StepFunctionsTargetAdapter(
        sfn,
        None,
        fast_pacer(),
        state_machine=MACHINE,
        alias="prod",
        definition_path=None,
        region=REGION,
    )
    with Stubber(sfn) as stub:
        stub.add_response(
            "publish_state_machine_version",
            {"creationDate": "2026-11-26T00:00:00Z", "stateMachineVersionArn": f"{MACHINE}:4"},
            {"stateMachineArn": MACHINE, "description": "release 9"},
        )
        published = target.publish(Release(None, True, "first deploy"), {}, "release 9")
        stub.assert_no_pending_responses()
    assert published.version == published.arn == f"{MACHINE}:4"


def test_check_inputs_parses_the_definition_without_any_call(tmp_path: Path) -> None:
    definition = tmp_path / "flow.json"
    offline = StepFunctionsTargetAdapter(
        None,
        None,
        fast_pacer(),
        state_machine="flow",
        alias="prod",
        definition_path=definition,
        region=REGION,
    )
    definition.write_text('{"StartAt": "A", "States": {"A": {"Resource": "{targets.api.x"')
    with pytest.raises(TargetError, match="is not valid"):
        offline.check_inputs()
    definition.write_text(json.dumps(PINNED))
    offline.check_inputs()  # values of earlier targets do not exist yet, and need not
    definition.write_text('{"StartAt": "A", "States": {"A": {"Resource": "{typo}"}}}')
    with pytest.raises(TargetError, match=r"uses \{typo\}"):
        offline.check_inputs()
