"""A Step Functions state machine alias as a release target.

Versions are named by their ARNs; an alias routes to at most two of them with
whole-number weights that sum to 100.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from rollout.aws.errors import aws_call, call, call_unless_missing
from rollout.aws.pacing import Pacer
from rollout.aws.permissions import ApiCall, Scope, declared
from rollout.engine.ports import PublishedVersion, Release, TargetError
from rollout.engine.routing import HUNDRED, AliasRouting, AliasState
from rollout.plan.placeholders import UnresolvedPlaceholderError, render

# Every call this module makes; the client refuses others and `rollout iam-policy` grants these.
# Step Functions authorizes a version's or an alias's call on the state machine's own ARN.
CALLS = (
    ApiCall("stepfunctions", "DescribeStateMachineAlias", Scope.TARGET_STATE_MACHINE),
    ApiCall("stepfunctions", "DescribeStateMachine", Scope.TARGET_STATE_MACHINE),
    # publish=True needs PublishStateMachineVersion too, as AWS documents.
    ApiCall(
        "stepfunctions",
        "UpdateStateMachine",
        Scope.TARGET_STATE_MACHINE,
        ("states:UpdateStateMachine", "states:PublishStateMachineVersion"),
    ),
    ApiCall("stepfunctions", "PublishStateMachineVersion", Scope.TARGET_STATE_MACHINE),
    ApiCall("stepfunctions", "CreateStateMachineAlias", Scope.TARGET_STATE_MACHINE),
    ApiCall("stepfunctions", "UpdateStateMachineAlias", Scope.TARGET_STATE_MACHINE),
)

# `arn:PARTITION:SERVICE:REGION:ACCOUNT:`: a definition names resources of its own region.
_REGIONAL_ARN = re.compile(r"arn:([\w-]+):([\w-]+):[a-z0-9-]*:\d*:")


class StepFunctionsTargetAdapter:
    """One state machine alias in one region."""

    revision_guarded = False  # UpdateStateMachineAlias takes no revision: read, then write

    def __init__(
        self,
        sfn_client: Any,
        sts_client: Any,
        pacer: Pacer,
        *,
        state_machine: str,
        alias: str,
        definition_path: Path | None,
        region: str,
    ) -> None:
        self.client = declared(sfn_client, CALLS)
        self.sts = sts_client
        self.pacer = pacer
        self.state_machine = state_machine
        self.alias = alias
        self.definition_path = definition_path
        self.region = region
        self._machine_arn: str | None = state_machine if state_machine.startswith("arn:") else None

    @property
    def resource(self) -> str:
        """`machine:alias (region)`, as errors name the target."""
        name = self.state_machine.rsplit(":", 1)[-1]
        return f"{name}:{self.alias} ({self.region})"

    @property
    def machine_arn(self) -> str:
        """The state machine's ARN, built from its name and the caller's account."""
        if self._machine_arn is None:
            with aws_call("GetCallerIdentity", self.resource):
                identity = self.sts.get_caller_identity()
            partition = str(identity["Arn"]).split(":")[1]
            account = identity["Account"]
            self._machine_arn = (
                f"arn:{partition}:states:{self.region}:{account}:stateMachine:{self.state_machine}"
            )
        return self._machine_arn

    @property
    def alias_arn(self) -> str:
        """The alias's ARN: the state machine's, then `:alias`."""
        return f"{self.machine_arn}:{self.alias}"

    def _call(self, operation: str, method: str, **arguments: Any) -> Any:
        return call(self.client, self.resource, operation, method, **arguments)

    def _write(
        self, operation: str, method: str, *, alias_write: bool = False, **arguments: Any
    ) -> Any:
        # Step Functions' version and alias APIs refill slowly, each its own bucket: pace them.
        self.pacer.acquire(operation)
        return call(
            self.client, self.resource, operation, method, alias_write=alias_write, **arguments
        )

    @property
    def reads_published_versions(self) -> bool:
        """A definition may name versions earlier targets publish."""
        return self.definition_path is not None

    def begin_publish(self, release: Release) -> None:
        """Nothing to start: UpdateStateMachine publishes at once."""

    def check_inputs(self) -> None:
        """The definition must parse, whatever versions earlier targets will publish."""
        if self.definition_path is not None:
            self._parsed_definition(_StandInValues(region=self.region))

    # -- reading -----------------------------------------------------------------------------

    def read_alias(self) -> AliasState | None:
        """The alias as Step Functions reports it, or None."""
        self.pacer.acquire("DescribeStateMachineAlias")
        got = call_unless_missing(
            self.client,
            self.resource,
            "DescribeStateMachineAlias",
            "describe_state_machine_alias",
            stateMachineAliasArn=self.alias_arn,
        )
        if got is None:
            return None
        entries = [
            (str(e["stateMachineVersionArn"]), int(e["weight"]))
            for e in got["routingConfiguration"]
        ]
        base, *rest = entries
        routing = AliasRouting(base[0], tuple((arn, Decimal(weight)) for arn, weight in rest))
        return AliasState(self.alias_arn, routing, str(got.get("updateDate", "")) or None)

    def _parsed_definition(self, values: Mapping[str, str]) -> dict[str, Any]:
        assert self.definition_path is not None
        path = self.definition_path
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise TargetError(f"cannot read the definition {path}: {exc.strerror}") from None
        try:
            rendered = render(text, values)
        except UnresolvedPlaceholderError as exc:
            raise TargetError(
                f"definition {path} uses {{{exc.args[0]}}}, which has no value here"
            ) from None
        try:
            if path.suffix in (".yaml", ".yml"):
                parsed = yaml.safe_load(rendered)
            else:
                parsed = json.loads(rendered)
        except (ValueError, yaml.YAMLError) as exc:
            raise TargetError(f"definition {path} is not valid: {exc}") from None
        if not isinstance(parsed, dict) or "States" not in parsed:
            raise TargetError(f"definition {path} is not a state machine (no States)")
        return parsed

    def _definition_of(self, arn: str) -> Any:
        got = self._call("DescribeStateMachine", "describe_state_machine", stateMachineArn=arn)
        return json.loads(got["definition"])

    def prepare(self, values: Mapping[str, str]) -> Release:
        """Decide, before any write, whether the alias already serves this definition."""
        wanted = self._parsed_definition(values) if self.definition_path else None
        alias = self.read_alias()
        if alias is None:
            return Release(None, True, "first deploy: the alias does not exist yet")
        served = self._definition_of(alias.routing.base)
        if wanted is None:
            wanted = self._definition_of(self.machine_arn)
        version = alias.routing.base.rsplit(":", 1)[-1]
        if wanted == served:
            return Release(
                alias, False, f"unchanged: alias already serves this definition (version {version})"
            )
        changed = sorted(set(wanted.get("States", {})) ^ set(served.get("States", {})))
        detail = f"; states added or removed: {', '.join(changed)}" if changed else ""
        return Release(alias, True, f"definition differs from version {version}{detail}")

    # -- writing -------------------------------------------------------------------------------

    def publish(
        self, release: Release, values: Mapping[str, str], description: str
    ) -> PublishedVersion:
        """Publish the new definition (or the state machine's current one) as a version."""
        if self.definition_path is not None:
            definition = self._parsed_definition(values)
            got = self._write(
                "UpdateStateMachine",
                "update_state_machine",
                stateMachineArn=self.machine_arn,
                definition=json.dumps(definition),
                publish=True,
                versionDescription=description,
            )
        else:
            got = self._write(
                "PublishStateMachineVersion",
                "publish_state_machine_version",
                stateMachineArn=self.machine_arn,
                description=description,
            )
        arn = str(got["stateMachineVersionArn"])
        return PublishedVersion(arn, arn)

    def version_arn(self, version: str) -> str:
        """Versions are named by their ARNs already."""
        return version

    def content_digest(self, version: str) -> str:
        """`definition 9f86d0…`: a digest of the version's definition, with this region and the
        account left out of the ARNs it names, so one definition deployed everywhere compares
        equal."""
        text = json.dumps(self._definition_of(version), sort_keys=True, separators=(",", ":"))
        neutral = _REGIONAL_ARN.sub(r"arn:\1:\2:-:-:", text)
        return f"definition {hashlib.sha256(neutral.encode()).hexdigest()[:10]}…"

    def create_alias(self, version: str) -> AliasState:
        """Create the alias with all traffic on `version`."""
        self._write(
            "CreateStateMachineAlias",
            "create_state_machine_alias",
            name=self.alias,
            routingConfiguration=[{"stateMachineVersionArn": version, "weight": 100}],
        )
        return AliasState(self.alias_arn, AliasRouting(version))

    def update_alias(self, routing: AliasRouting, expected: AliasState) -> AliasState:
        """Set the routing: the base version gets what the others do not."""
        # The additional weights first, so a refusal names the weight the caller asked for.
        others = [
            {"stateMachineVersionArn": arn, "weight": self._whole(weight)}
            for arn, weight in routing.additional
        ]
        base = {
            "stateMachineVersionArn": routing.version,
            "weight": self._whole(routing.weight_of(routing.version)),
        }
        entries = [base, *others]
        self._write(
            "UpdateStateMachineAlias",
            "update_state_machine_alias",
            alias_write=True,
            stateMachineAliasArn=self.alias_arn,
            routingConfiguration=entries,
        )
        return AliasState(self.alias_arn, routing, expected.revision)

    def _whole(self, weight: Decimal) -> int:
        if weight % 1 != 0 or not 0 <= weight <= HUNDRED:
            raise TargetError(
                f"UpdateStateMachineAlias on {self.resource}: Step Functions takes "
                f"whole-number weights, not {weight}%"
            )
        return int(weight)


class _StandInValues(dict[str, str]):
    """Placeholder values for checking a definition's syntax before the real ones exist."""

    def __contains__(self, key: object) -> bool:
        # Values that exist only once earlier stages ran; anything else must be known now.
        return isinstance(key, str) and (key in self.keys() or key.startswith(("targets.", "tf.")))

    def __missing__(self, key: str) -> str:
        return f"arn:aws:placeholder:{key}"
