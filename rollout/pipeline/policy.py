"""The least-privilege IAM policy a plan needs, built from the calls the adapters declare.

Which adapters a plan uses decides the actions; the plan's regions and resource
names decide the ARNs. Nothing here lists an action by name, so the policy
follows the code that makes the calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rollout.aws import alarms, identity, lambda_target, stepfunctions_target
from rollout.aws.permissions import ApiCall, Scope
from rollout.hooks import LAMBDA_HOOK_CALLS, STEPFUNCTIONS_HOOK_CALLS
from rollout.plan.model import Hook, Plan, Target
from rollout.plan.placeholders import find_placeholders
from rollout.state.s3_store import DYNAMODB_CALLS, S3_CALLS

# One statement per scope, in this order, named by its Sid.
SIDS = {
    Scope.TARGET_FUNCTION: "ReleaseLambdaAliases",
    Scope.CODE_PACKAGE: "ReadCodePackages",
    Scope.TARGET_STATE_MACHINE: "ReleaseStateMachineAliases",
    Scope.HOOK_FUNCTION: "InvokeLambdaHooks",
    Scope.HOOK_STATE_MACHINE: "StartStepFunctionsHooks",
    Scope.HOOK_EXECUTION: "WatchStepFunctionsHookExecutions",
    Scope.STATE_OBJECTS: "StateDocuments",
    Scope.STATE_BUCKET: "ListStateDocuments",
    Scope.LOCK_TABLE: "StateLock",
    Scope.ANY: "NoResourceLevelPermissions",
}


@dataclass(frozen=True)
class PolicyStatement:
    """One Allow statement: actions on resources, under a condition when one narrows it."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        statement: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": list(self.actions),
            "Resource": list(self.resources) if len(self.resources) > 1 else self.resources[0],
        }
        if self.condition:
            statement["Condition"] = self.condition
        return statement


@dataclass(frozen=True)
class Policy:
    """An IAM policy document, and what a reader of it should know."""

    statements: tuple[PolicyStatement, ...]
    notes: tuple[str, ...] = ()

    def document(self) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": [s.document() for s in self.statements]}


def partition_of(region: str) -> str:
    """The ARN partition of a region."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def default_account(plan: Plan) -> str:
    """The account of the role the plan assumes, which is the role this policy is for; or `*`."""
    if plan.aws.role_arn:
        return plan.aws.role_arn.split(":")[4]
    return "*"


Uses = Iterator[tuple[tuple[ApiCall, ...], dict[Scope, list[str]]]]


def iam_policy(plan: Plan, account: str) -> Policy:
    """The policy `plan` needs in `account` (12 digits, or `*` for any)."""
    namer = _Namer(plan, account)
    grants: dict[Scope, tuple[set[str], list[str]]] = {}
    for calls, resources in _uses(plan, namer):
        for call in calls:
            actions, named = grants.setdefault(call.scope, (set(), []))
            actions.update(call.actions)
            named.extend(r for r in resources.get(call.scope, []) if r not in named)
    conditions = namer.state_conditions() if plan.state.backend == "s3" else {}
    statements = tuple(
        PolicyStatement(
            SIDS[scope],
            tuple(sorted(grants[scope][0])),
            ("*",) if scope is Scope.ANY else tuple(grants[scope][1]),
            conditions.get(scope, {}),
        )
        for scope in SIDS
        if scope in grants
    )
    return Policy(statements, namer.notes())


def _uses(plan: Plan, namer: _Namer) -> Uses:
    """Each group of declared calls the plan makes, with the resources of each scope."""
    yield identity.CALLS, {}  # every command first asks who it acts as
    if any(target.alarms for target in plan.targets):
        yield alarms.CALLS, {}
    for target in plan.targets:
        yield from _target_uses(target, namer)
        for hook in (target.hooks.before_traffic, target.hooks.after_traffic):
            if hook is not None:
                yield from _hook_uses(hook, namer)
    if plan.state.backend == "s3":
        yield (
            S3_CALLS + DYNAMODB_CALLS,
            {
                Scope.STATE_OBJECTS: [namer.state_objects()],
                Scope.STATE_BUCKET: [namer.state_bucket()],
                Scope.LOCK_TABLE: [namer.lock_table()],
            },
        )


def _target_uses(target: Target, namer: _Namer) -> Uses:
    if target.lambda_ is not None:
        yield lambda_target.CALLS, {Scope.TARGET_FUNCTION: namer.functions(target.lambda_.function)}
        s3 = target.lambda_.code.s3 if target.lambda_.code else None
        if s3 is not None:
            calls = lambda_target.VERSIONED_CODE_CALLS if s3.version else lambda_target.CODE_CALLS
            yield calls, {Scope.CODE_PACKAGE: [namer.s3_object(s3.bucket, s3.key)]}
    if target.stepfunctions is not None:
        machines = namer.state_machines(target.stepfunctions.state_machine)
        yield stepfunctions_target.CALLS, {Scope.TARGET_STATE_MACHINE: machines}


def _hook_uses(hook: Hook, namer: _Namer) -> Uses:
    if hook.lambda_ is not None:
        yield LAMBDA_HOOK_CALLS, {Scope.HOOK_FUNCTION: namer.functions(hook.lambda_)}
    if hook.stepfunctions is not None:
        yield (
            STEPFUNCTIONS_HOOK_CALLS,
            {
                Scope.HOOK_STATE_MACHINE: namer.state_machines(hook.stepfunctions),
                Scope.HOOK_EXECUTION: namer.executions(hook.stepfunctions),
            },
        )


class _Namer:
    """ARNs of the plan's resources in each of its regions; a name known only at run time
    (a terraform output, what an earlier target published) becomes `*`."""

    def __init__(self, plan: Plan, account: str) -> None:
        self.plan = plan
        self.account = account
        self.wildcards: set[str] = set()

    def _filled(self, text: str, region: str) -> str:
        for placeholder in find_placeholders(text):
            value = region if placeholder.name == "region" else "*"
            if value == "*":
                self.wildcards.add(str(placeholder))
            text = text.replace(str(placeholder), value)
        return text

    def _each_region(self, service: str, resource: str) -> list[str]:
        arns = []
        for region in self.plan.regions:
            name = self._filled(resource, region)
            if name.startswith("arn:"):
                arns.append(name)
            else:
                arns.append(f"arn:{partition_of(region)}:{service}:{region}:{self.account}:{name}")
        return list(dict.fromkeys(arns))

    def functions(self, function: str) -> list[str]:
        """The function, and with `:*` its versions and aliases."""
        base = self._each_region("lambda", f"function:{function}")
        return [arn for each in base for arn in (each, f"{each}:*")]

    def state_machines(self, machine: str) -> list[str]:
        """The state machine, and with `:*` its versions and aliases."""
        base = self._each_region("states", f"stateMachine:{machine}")
        return [arn for each in base for arn in (each, f"{each}:*")]

    def executions(self, machine: str) -> list[str]:
        """The executions of a state machine (of any of its versions)."""
        if machine.startswith("arn:"):  # arn:P:states:R:A:stateMachine:NAME
            parts = machine.split(":")
            return [":".join([*parts[:5], "execution", parts[6], "*"])]
        return self._each_region("states", f"execution:{machine}:*")

    def s3_object(self, bucket: str, key: str) -> str:
        region = self.plan.regions[0]
        filled = self._filled(f"{bucket}/{key}", region)
        return f"arn:{partition_of(region)}:s3:::{filled}"

    # -- the shared state store ------------------------------------------------------------

    @property
    def _state_region(self) -> str:
        return self.plan.state.region or self.plan.regions[0]

    @property
    def _state_prefix(self) -> str:
        prefix = (self.plan.state.prefix or "").strip("/")
        return f"{prefix}/{self.plan.name}/" if prefix else f"{self.plan.name}/"

    def state_objects(self) -> str:
        partition = partition_of(self._state_region)
        return f"arn:{partition}:s3:::{self.plan.state.bucket}/{self._state_prefix}*"

    def state_bucket(self) -> str:
        return f"arn:{partition_of(self._state_region)}:s3:::{self.plan.state.bucket}"

    def lock_table(self) -> str:
        region = self._state_region
        table = f"table/{self.plan.state.lock_table}"
        return f"arn:{partition_of(region)}:dynamodb:{region}:{self.account}:{table}"

    def state_conditions(self) -> dict[Scope, dict[str, dict[str, list[str]]]]:
        """Listing only under the plan's prefix; locking only the plan's own key."""
        return {
            Scope.STATE_BUCKET: {"StringLike": {"s3:prefix": [f"{self._state_prefix}*"]}},
            Scope.LOCK_TABLE: {
                "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [self.plan.name]}
            },
        }

    def notes(self) -> tuple[str, ...]:
        notes = []
        if self.wildcards:
            named = ", ".join(sorted(self.wildcards))
            verb = "gets its value" if len(self.wildcards) == 1 else "get their values"
            notes.append(f"{named} {verb} at run time: `*` stands in for it in the ARNs")
        if self.plan.terraform is not None:
            notes.append("terraform runs with these credentials too: add what its providers need")
        if any(
            t.lambda_ and t.lambda_.code and t.lambda_.code.image_uri for t in self.plan.targets
        ):
            notes.append("a container image is pulled by Lambda: the ECR repository must allow it")
        return tuple(notes)
