"""The `rollout promote` command line that releases one target's manual pause in one region."""

from __future__ import annotations

import shlex

from rollout.plan.load import LoadedPlan


def promote_command(
    loaded: LoadedPlan, region: str, target: str, endpoint_url: str | None = None
) -> str:
    """`rollout promote -f PLAN --region R --target T`, each word shell-quoted."""
    words = ["rollout", "promote", "-f", str(loaded.file), "--region", region, "--target", target]
    if endpoint_url and loaded.plan.state.backend == "s3":
        # promote reads the state store; an endpoint the plan does not name must be given again.
        words += ["--endpoint-url", endpoint_url]
    return shlex.join(words)
