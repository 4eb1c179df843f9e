"""Who rollout acts as is asked once per region, however many state machines it releases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rollout.pipeline.build import Builder
from rollout.pipeline.selection import Selection
from rollout.plan.load import load_plan
from tests.engine.fakes import FakeClock

PLAN = """\
version: 1
name: flows
regions: [us-east-1, eu-west-1]
targets:
"""


class CountingSts:
    """STS's GetCallerIdentity, counted."""

    def __init__(self) -> None:
        self.calls = 0

    def get_caller_identity(self) -> dict[str, Any]:
        self.calls += 1
        return {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ci"}


def test_get_caller_identity_is_called_once_per_region_not_once_per_target(
    tmp_path: Path,
) -> None:
    targets = "".join(
        f"  - name: flow{n}\n    stepfunctions: {{state_machine: flow{n}, alias: prod}}\n"
        "    strategy: AllAtOnce\n"
        for n in range(5)
    )
    (tmp_path / "rollout.yaml").write_text(PLAN + targets)
    loaded = load_plan(tmp_path / "rollout.yaml")
    builder = Builder(loaded, Selection(), FakeClock(), endpoint_url="http://127.0.0.1:9")

    for region in ("us-east-1", "eu-west-1"):
        build = builder.region(region)
        sts = build._clients["sts"] = CountingSts()
        arns = [
            build.adapter(build.identity(t, build.scope), t, build.scope).alias_arn  # type: ignore[attr-defined]
            for t in loaded.plan.targets
        ]
        assert sts.calls == 1
        assert arns[4] == f"arn:aws:states:{region}:123456789012:stateMachine:flow4:prod"
