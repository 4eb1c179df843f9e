"""`rollout iam-policy`: the IAM policy a plan needs, worked out offline from the plan file."""

from __future__ import annotations

from rollout.commands.result import CommandResult, said
from rollout.exitcodes import ExitCode
from rollout.pipeline.policy import default_account, iam_policy
from rollout.plan.load import LoadedPlan


def policy_for(loaded: LoadedPlan, account: str | None) -> CommandResult:
    """The policy document as a fact, what to know about it as warnings; no AWS call."""
    policy = iam_policy(loaded.plan, account or default_account(loaded.plan))
    return said(
        ExitCode.OK, *(f"warning: {note}" for note in policy.notes), policy=policy.document()
    )
