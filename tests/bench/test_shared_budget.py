"""Other callers in the account use part of Lambda's 15 requests/s: rollout is paced for all of
it, so AWS throttles it, and the release must slow down rather than fail.

The limits proxy stands in for AWS with only 6 requests/s left to rollout; botocore's
adaptive retry mode, shared by every target of a region, lowers the client's own rate
after the first throttle.
"""

from __future__ import annotations

from bench import traffic
from bench.limits_proxy import Limits, limits_proxy


def test_a_release_sharing_lambdas_budget_slows_down_and_no_throttle_reaches_the_user(
    aws_endpoint: str,
) -> None:
    folder = traffic.new_folder("shared")
    names = [f"{folder.name}-{n}" for n in range(12)]
    world = traffic.lambda_fleet(aws_endpoint, names, second_version=True)
    plan = traffic.lambda_plan(folder, names, "{steps: [{weight: 50, pause: 0.2s}, {weight: 100}]}")

    with limits_proxy(aws_endpoint, Limits(lambda_limit=(6.0, 6.0))) as proxy:
        done = traffic.apply_through(plan, proxy)

    assert done.code == 0, done.output
    assert proxy.throttled() > 0  # AWS did push back: the test would prove nothing otherwise
    assert done.throttling_surfaced == 0, done.output
    assert all(world.lambda_routing(name) == ("2", {}) for name in names)
