"""Alarm states read in batches of 100 names, from moto's server over real HTTP.

moto 5.2 cannot create composite alarms (PutCompositeAlarm is not implemented), so
reading them is tested with botocore's Stubber and the response shape AWS documents.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from rollout.aws.alarms import AlarmReadError, CloudWatchAlarms
from tests.aws.helpers import REGION, MotoAws

REAL = ["api-errors", "api-latency", "flow-failures", "flow-timeouts", "queue-depth"]


def test_250_names_take_3_calls_and_missing_names_are_absent(aws: MotoAws) -> None:
    for name in REAL:
        aws.alarm(name)
        aws.cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test")
    aws.cw.set_alarm_state(AlarmName="api-latency", StateValue="ALARM", StateReason="test")
    aws.cw.set_alarm_state(
        AlarmName="queue-depth", StateValue="INSUFFICIENT_DATA", StateReason="test"
    )
    names = [*REAL, *(f"missing-{n:03d}" for n in range(245))]
    alarms = CloudWatchAlarms(aws.cw, REGION)

    states = alarms.states(names)

    assert alarms.calls == 3
    assert states == {
        "api-errors": "OK",
        "api-latency": "ALARM",
        "flow-failures": "OK",
        "flow-timeouts": "OK",
        "queue-depth": "INSUFFICIENT_DATA",
    }


def test_composite_alarms_are_read_and_next_token_is_followed() -> None:
    """moto has no PutCompositeAlarm: Stubber with AWS's DescribeAlarms response shape."""
    cw = boto3.client("cloudwatch", region_name=REGION)
    alarms = CloudWatchAlarms(cw, REGION)
    asked = {"AlarmNames": ["api", "gate"], "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
    with Stubber(cw) as stub:
        stub.add_response(
            "describe_alarms",
            {"MetricAlarms": [{"AlarmName": "api", "StateValue": "OK"}], "NextToken": "page-2"},
            asked,
        )
        stub.add_response(
            "describe_alarms",
            {"CompositeAlarms": [{"AlarmName": "gate", "StateValue": "ALARM"}]},
            {**asked, "NextToken": "page-2"},
        )
        states = alarms.states(["gate", "api"])
        stub.assert_no_pending_responses()
    assert states == {"api": "OK", "gate": "ALARM"}
    assert alarms.calls == 2


def test_a_failed_read_names_the_region() -> None:
    cw = boto3.client("cloudwatch", region_name="eu-west-1")
    with Stubber(cw) as stub:
        stub.add_client_error("describe_alarms", "AccessDenied", "not allowed here")
        with pytest.raises(
            AlarmReadError, match=r"DescribeAlarms in eu-west-1 failed: .*not allowed"
        ):
            CloudWatchAlarms(cw).states(["api"])
