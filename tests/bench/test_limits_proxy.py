"""The limits proxy refuses what AWS would refuse: its buckets on a fake clock, its answers
through real HTTP and boto3 (retries off, so nothing sleeps)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bench.limits_proxy import Call, Limits, LimitsProxy, describe, limits_proxy
from rollout.sandbox import SandboxWorld, package


class FakeClock:
    """Time that moves only when the test says."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lambda_call(operation: str, region: str = "us-east-1") -> Call:
    return Call("lambda", region, operation, "fn")


def admitted(limits: Limits, call: Call, times: int) -> int:
    return sum(limits.admit(call) for _ in range(times))


def test_lambda_admits_fifteen_calls_a_second_across_its_apis() -> None:
    limits = Limits(FakeClock())

    assert admitted(limits, lambda_call("GetAlias"), 10) == 10
    assert admitted(limits, lambda_call("UpdateAlias"), 10) == 5


def test_lambda_bucket_refills_at_fifteen_a_second() -> None:
    clock = FakeClock()
    limits = Limits(clock)
    admitted(limits, lambda_call("UpdateAlias"), 15)

    clock.now += 0.2

    assert admitted(limits, lambda_call("UpdateAlias"), 5) == 3


def test_get_function_has_its_own_hundred_a_second() -> None:
    limits = Limits(FakeClock())
    admitted(limits, lambda_call("UpdateAlias"), 15)

    assert admitted(limits, lambda_call("GetFunction"), 60) == 60
    assert admitted(limits, lambda_call("GetFunctionConfiguration"), 60) == 40
    assert not limits.admit(lambda_call("PublishVersion"))


def test_each_region_has_its_own_buckets() -> None:
    limits = Limits(FakeClock())
    admitted(limits, lambda_call("UpdateAlias", "us-east-1"), 15)

    assert admitted(limits, lambda_call("UpdateAlias", "eu-west-1"), 15) == 15


def test_step_functions_apis_each_have_a_bucket_of_100_refilling_one_a_second() -> None:
    clock = FakeClock()
    limits = Limits(clock)
    update = Call("states", "us-east-1", "UpdateStateMachineAlias")

    assert admitted(limits, update, 120) == 100
    assert admitted(limits, Call("states", "us-east-1", "PublishStateMachineVersion"), 100) == 100
    assert admitted(limits, Call("states", "us-east-1", "DescribeStateMachineAlias"), 250) == 200
    clock.now += 3
    assert admitted(limits, update, 5) == 3
    assert admitted(limits, Call("states", "us-east-1", "ListExecutions"), 500) == 500


def test_a_code_update_stays_in_progress_for_the_latency() -> None:
    clock = FakeClock()
    limits = Limits(clock, update_latency=1.5)
    limits.code_updated(lambda_call("UpdateFunctionCode"))

    clock.now += 1.4
    assert limits.updating(lambda_call("GetFunction"))
    clock.now += 0.2
    assert not limits.updating(lambda_call("GetFunction"))


def test_lambda_operations_are_read_from_method_and_path() -> None:
    signed = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=K/20260101/eu-west-1/lambda/aws4_request"
    }
    base = "/2015-03-31/functions"

    def operation(method: str, path: str) -> tuple[str, str, str]:
        call = describe(method, path, signed)
        return call.operation, call.function, call.qualifier

    assert operation("GET", f"{base}/fn/aliases/live") == ("GetAlias", "fn", "")
    assert operation("PUT", f"{base}/fn/aliases/live") == ("UpdateAlias", "fn", "")
    assert operation("PUT", f"{base}/fn/code") == ("UpdateFunctionCode", "fn", "")
    assert operation("POST", f"{base}/fn/versions") == ("PublishVersion", "fn", "")
    arn = "arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Afn"
    assert operation("GET", f"{base}/{arn}?Qualifier=7") == ("GetFunction", "fn", "7")
    assert describe("GET", f"{base}/fn", signed).region == "eu-west-1"


@pytest.fixture
def proxy(aws_endpoint: str) -> Iterator[tuple[LimitsProxy, FakeClock]]:
    clock = FakeClock()  # never moves: the buckets do not refill during the test
    with limits_proxy(aws_endpoint, Limits(clock, update_latency=1.5)) as running:
        yield running, clock


def client(service: str, endpoint: str) -> Any:
    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return boto3.client(service, region_name="us-east-1", endpoint_url=endpoint, config=config)


def test_throttled_lambda_calls_get_lambdas_429(
    aws_endpoint: str, proxy: tuple[LimitsProxy, FakeClock]
) -> None:
    running, _ = proxy
    SandboxWorld(aws_endpoint).function("fn")
    lam = client("lambda", running.url)

    lam.get_alias(FunctionName="fn", Name="live")
    admitted(running.limits, lambda_call("GetAlias"), 14)  # the rest of the second's budget
    with pytest.raises(ClientError) as refused:
        lam.get_alias(FunctionName="fn", Name="live")

    assert refused.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert refused.value.response["Reason"] == "CallerRateLimitExceeded"
    assert running.throttled() == 1


def test_throttled_step_functions_calls_get_a_throttling_exception(
    aws_endpoint: str, proxy: tuple[LimitsProxy, FakeClock]
) -> None:
    running, _ = proxy
    arn = SandboxWorld(aws_endpoint).state_machine("flow")
    sfn = client("stepfunctions", running.url)

    sfn.describe_state_machine_alias(stateMachineAliasArn=f"{arn}:prod")
    admitted(running.limits, Call("states", "us-east-1", "DescribeStateMachineAlias"), 199)
    with pytest.raises(ClientError) as refused:
        sfn.describe_state_machine_alias(stateMachineAliasArn=f"{arn}:prod")

    assert refused.value.response["Error"]["Code"] == "ThrottlingException"


def test_code_update_reads_in_progress_and_refuses_a_publish_until_it_ends(
    aws_endpoint: str, proxy: tuple[LimitsProxy, FakeClock]
) -> None:
    running, clock = proxy
    SandboxWorld(aws_endpoint).function("fn")
    lam = client("lambda", running.url)

    lam.update_function_code(FunctionName="fn", ZipFile=package("v2"))
    during = lam.get_function(FunctionName="fn")["Configuration"]["LastUpdateStatus"]
    with pytest.raises(ClientError) as refused:
        lam.publish_version(FunctionName="fn")
    clock.now += 2
    after = lam.get_function_configuration(FunctionName="fn")["LastUpdateStatus"]

    assert during == "InProgress"
    assert refused.value.response["Error"]["Code"] == "ResourceConflictException"
    assert after == "Successful"
    assert lam.publish_version(FunctionName="fn")["Version"] == "2"
