"""Sessions and clients: the endpoint, botocore's adaptive retries, and an assumed role."""

from __future__ import annotations

from rollout.aws.clients import AwsAccess, client, make_session


def test_clients_use_the_endpoint_region_and_adaptive_retries(aws_endpoint: str) -> None:
    made = client(AwsAccess("eu-west-1", endpoint_url=aws_endpoint), "lambda")

    assert made.meta.endpoint_url == aws_endpoint
    assert made.meta.region_name == "eu-west-1"
    # botocore counts the first attempt too: 8 retries are 9 attempts.
    assert made.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 9}
    assert made.meta.config.connect_timeout == 5


def test_role_is_assumed_in_the_access_region(aws_endpoint: str) -> None:
    access = AwsAccess(
        "eu-west-1",
        endpoint_url=aws_endpoint,
        role_arn="arn:aws:iam::123456789012:role/deployer",
        external_id="shared-secret",
    )
    session = make_session(access)
    identity = client(access, "sts", session).get_caller_identity()

    assert session.region_name == "eu-west-1"
    assert ":assumed-role/deployer/rollout" in identity["Arn"]
    assert session.get_credentials().access_key != "testing"  # the temporary credentials
