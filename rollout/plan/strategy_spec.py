"""How a target's `strategy` is written in the plan, and how it becomes steps.

A strategy is a name (`Canary10Percent5Minutes`, `blue_green`), a mapping with
`type`, a mapping with `steps`, or CloudFormation's DeploymentPreference shape.
"""

from __future__ import annotations

import difflib
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

import strategies
from rollout.plan.durations import format_duration
from rollout.plan.types import DURATION_SCHEMA, Duration, TrafficShare, Weight, parse_duration_value
from strategies import all_at_once, blue_green, canary, cloudformation, codedeploy, linear
from strategies import steps as explicit


class StrictModel(BaseModel):
    """A plan section: unknown keys are errors, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _remember_section(cls, data: Any, info: ValidationInfo) -> Any:
        # Lets error reporting find which section an unknown key was written in,
        # so it can suggest the closest valid key.
        if isinstance(info.context, dict) and isinstance(data, dict):
            info.context.setdefault("sections", {})[id(data)] = cls
        return data

    @classmethod
    def valid_keys(cls) -> list[str]:
        """The keys this section accepts, as written in the file."""
        return [field.alias or name for name, field in cls.model_fields.items()]


_SIMPLE_NAMES = {
    "all_at_once": "all_at_once",
    "all-at-once": "all_at_once",
    "blue_green": "blue_green",
    "blue-green": "blue_green",
    "BlueGreen": "blue_green",
}


def strategy_names() -> list[str]:
    """Every strategy name a plan may give as a plain string."""
    return [*_SIMPLE_NAMES, *codedeploy.names()]


def _known_name(name: str) -> str:
    if name in _SIMPLE_NAMES or codedeploy.is_predefined(name):
        return name
    close = difflib.get_close_matches(name, strategy_names(), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise PydanticCustomError(
        "strategy", "unknown strategy {name}{hint}", {"name": repr(name), "hint": hint}
    )


StrategyName = Annotated[
    str,
    AfterValidator(_known_name),
    WithJsonSchema({"type": "string", "enum": strategy_names()}),
]


class AllAtOnceStrategy(StrictModel):
    """Everything to the new version at once."""

    type: Literal["all_at_once"]


class BlueGreenStrategy(StrictModel):
    """Validate the new version at 0%, then move everything; the old stays for instant revert."""

    type: Literal["blue_green"]


class CanaryStrategy(StrictModel):
    """`percent` first, the rest after `interval`."""

    type: Literal["canary"]
    percent: TrafficShare
    interval: Duration


class LinearStrategy(StrictModel):
    """`percent` more every `interval` until all traffic has moved."""

    type: Literal["linear"]
    percent: TrafficShare
    interval: Duration


def _pause(value: Any) -> timedelta | Literal["manual"]:
    if value == "manual":
        return "manual"
    return parse_duration_value(value)


Pause = Annotated[
    timedelta | Literal["manual"],
    PlainValidator(_pause),
    PlainSerializer(lambda pause: pause if pause == "manual" else format_duration(pause)),
    WithJsonSchema({"anyOf": [DURATION_SCHEMA, {"const": "manual"}]}),
]


class ExplicitStep(StrictModel):
    """One step of an explicit list: a weight, then an optional pause (a duration or `manual`)."""

    weight: Weight
    pause: Pause | None = None


def _step_item_kind(value: Any) -> str | None:
    if value == "validate":
        return "step:validate"
    if isinstance(value, dict):
        return "step:weight"
    return None


StepItem = Annotated[
    Annotated[ExplicitStep, Tag("step:weight")]
    | Annotated[Literal["validate"], Tag("step:validate")],
    Discriminator(
        _step_item_kind,
        custom_error_type="step",
        custom_error_message=(
            "a step is a mapping such as {weight: 10, pause: 5m}, or the word validate"
        ),
    ),
]


class ExplicitStepsStrategy(StrictModel):
    """The steps as written."""

    steps: list[StepItem] = Field(min_length=1)


class DeploymentPreference(StrictModel):
    """CloudFormation's `AWS::StepFunctions::StateMachineAlias` DeploymentPreference shape."""

    type: Literal["LINEAR", "CANARY", "ALL_AT_ONCE"]
    percentage: int | None = Field(default=None, ge=1, le=99)
    interval: int | None = Field(default=None, ge=1, description="minutes")


_NATIVE_TYPES = ("all_at_once", "blue_green", "canary", "linear")


def _strategy_kind(value: Any) -> str:
    if isinstance(value, str):
        return "name"
    if isinstance(value, dict):
        if "steps" in value:
            return "steps"
        kind = value.get("type")
        if isinstance(kind, str) and kind.isupper():
            return "cloudformation"
        if kind in _NATIVE_TYPES:
            return str(kind)
    return "invalid"


def _reject_strategy(value: Any) -> Any:
    if isinstance(value, dict) and "type" in value:
        kind = value["type"]
        close = difflib.get_close_matches(str(kind), _NATIVE_TYPES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise PydanticCustomError(
            "strategy",
            "unknown strategy type {kind}{hint} (one of all_at_once, blue_green, canary, linear)",
            {"kind": repr(kind), "hint": hint},
        )
    raise PydanticCustomError(
        "strategy",
        "a strategy is a name such as Canary10Percent5Minutes, a mapping with type "
        "(all_at_once, blue_green, canary, linear), or a mapping with steps",
    )


StrategySpec = Annotated[
    Annotated[StrategyName, Tag("name")]
    | Annotated[AllAtOnceStrategy, Tag("all_at_once")]
    | Annotated[BlueGreenStrategy, Tag("blue_green")]
    | Annotated[CanaryStrategy, Tag("canary")]
    | Annotated[LinearStrategy, Tag("linear")]
    | Annotated[ExplicitStepsStrategy, Tag("steps")]
    | Annotated[DeploymentPreference, Tag("cloudformation")]
    | Annotated[SkipJsonSchema[Any], PlainValidator(_reject_strategy), Tag("invalid")],
    Discriminator(_strategy_kind),
]


def strategy_steps(spec: StrategySpec, *, bake: timedelta) -> tuple[strategies.Step, ...]:
    """The steps a strategy takes, ending with the final bake; raises StrategyError."""
    if isinstance(spec, str):
        simple = _SIMPLE_NAMES.get(spec)
        if simple == "all_at_once":
            return all_at_once.steps(bake=bake)
        if simple == "blue_green":
            return blue_green.steps(bake=bake)
        return codedeploy.steps(spec, bake=bake)
    if isinstance(spec, AllAtOnceStrategy):
        return all_at_once.steps(bake=bake)
    if isinstance(spec, BlueGreenStrategy):
        return blue_green.steps(bake=bake)
    if isinstance(spec, CanaryStrategy):
        return canary.steps(percent=spec.percent, interval=spec.interval, bake=bake)
    if isinstance(spec, LinearStrategy):
        return linear.steps(percent=spec.percent, interval=spec.interval, bake=bake)
    if isinstance(spec, ExplicitStepsStrategy):
        return explicit.steps([_explicit_item(item) for item in spec.steps], bake=bake)
    return cloudformation.steps(
        type=spec.type, percentage=spec.percentage, interval=spec.interval, bake=bake
    )


def _explicit_item(item: ExplicitStep | str) -> explicit.ExplicitStep | strategies.Validate:
    if isinstance(item, str):
        return strategies.Validate()
    if item.pause == "manual":
        return explicit.ExplicitStep(weight=item.weight, manual=True)
    return explicit.ExplicitStep(weight=item.weight, pause=item.pause)
