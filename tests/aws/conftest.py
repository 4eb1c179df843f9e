"""Fixtures of the AWS adapter tests: moto's server with a role, through plain boto3 clients."""

from __future__ import annotations

import pytest

from tests.aws.helpers import MotoAws


@pytest.fixture
def aws(aws_endpoint: str) -> MotoAws:
    """A freshly reset moto server with a role for Lambda and Step Functions."""
    return MotoAws(aws_endpoint)
