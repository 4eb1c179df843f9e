"""The plan file, version 1: every section, as immutable pydantic models.

The models check each value on its own; checks that tie sections together
(waves against regions, placeholders, per-target weights) live in `checks`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from rollout.plan.strategy_spec import StrategySpec, StrictModel
from rollout.plan.types import Duration, RegionName

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
SCHEMA_VERSION = 1

# rollout keeps NAME.json, NAME.requests.json, NAME.history.jsonl and NAME.lock per plan name.
STATE_FILE_SUFFIXES = (".requests", ".history", ".lock", ".jsonl", ".json")


def _exactly_one(model: StrictModel, keys: tuple[str, ...], what: str) -> None:
    given = [key for key in keys if getattr(model, key.replace("lambda", "lambda_")) is not None]
    if len(given) != 1:
        listed = ", ".join(keys)
        found = f"; found {', '.join(given)}" if given else ""
        raise PydanticCustomError(
            "one_of",
            "{what} needs exactly one of {listed}{found}",
            {"what": what, "listed": listed, "found": found},
        )


def _text(value: Any) -> Any:
    # YAML reads `version: 7` or `key: 2024` as numbers; these fields are text by nature.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_text)]


def _alias_name(value: str) -> str:
    if value.startswith("$"):
        # AWS alias names cannot hold a $ at all; one that begins with it means $LATEST.
        reserved = "" if value == "$LATEST" else " (a name beginning with $ stands for $LATEST)"
        raise PydanticCustomError(
            "alias",
            "{alias} is not an alias{reserved}: an alias on $LATEST moves all of its traffic at "
            "once when the code is updated, and no rollback could undo it; name an alias (such "
            "as live) that points at a published version",
            {"alias": repr(value), "reserved": reserved},
        )
    if value.isascii() and value.isdigit():
        raise PydanticCustomError(
            "alias",
            "{alias} is a version number, not an alias (AWS refuses alias names made only of "
            "digits); name an alias (such as live) that points at a published version",
            {"alias": repr(value)},
        )
    return value


# The alias whose routing moves; placeholders such as live-{region} are fine.
AliasName = Annotated[
    Text,
    Field(
        min_length=1,
        description="The alias whose traffic moves: not $LATEST, not a version number.",
        json_schema_extra={"not": {"pattern": r"^(\$|[0-9]+$)"}},
    ),
    AfterValidator(_alias_name),
]


class AwsSettings(StrictModel):
    """How to reach AWS; boto3's usual credential chain when omitted."""

    profile: str | None = None
    role_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")
    endpoint_url: str | None = Field(default=None, pattern=r"^https?://")
    external_id: str | None = None


class TerraformSection(StrictModel):
    """The per-region terraform apply that runs before traffic moves."""

    dir: str = Field(description="The configuration's folder, relative to the plan file.")
    workspace: str | None = Field(default=None, description="Selected, or created, per region.")
    backend_config: dict[str, Text] = Field(
        default_factory=dict, description="`-backend-config` values, e.g. the region's state key."
    )
    vars: dict[str, Any] = Field(default_factory=dict, description="Input variables, any type.")
    var_files: list[str] = Field(
        default_factory=list,
        description="`-var-file`s, relative to `dir`, as terraform reads them.",
    )
    binary: str = Field(default="terraform", description="`terraform`, `tofu`, or a path.")
    plugin_dir: str | None = Field(
        default=None, description="Providers from this folder only (`init -plugin-dir`)."
    )
    timeout: Duration = Field(
        default=timedelta(hours=1), description="The longest a plan or an apply may take."
    )


class TlsFiles(StrictModel):
    """A certificate and its key, for a domain served over HTTPS."""

    certificate: str
    key: str


class DomainMapping(StrictModel):
    """One custom domain (and path prefix) routed to one private API stage: the same data as a
    mapping file's entry. Values may use `{region}` and `{tf.NAME}`; they are checked once
    filled, in the region."""

    domain: str = Field(min_length=1)
    private_api_url: str = Field(min_length=1)
    verbs: list[str] | None = None
    path: str = Field(default="/", pattern=r"^/")
    tls: TlsFiles | None = None


def _mappings_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "file"
    return "inline" if isinstance(value, list) else None


class NginxStage(StrictModel):
    """The per-region NGINX domain-mapping config, rendered after terraform, before traffic."""

    mappings: Annotated[
        Annotated[str, Tag("file")] | Annotated[list[DomainMapping], Tag("inline")],
        Discriminator(
            _mappings_kind,
            custom_error_type="mappings",
            custom_error_message=(
                "mappings is a mapping file's name or a list of {domain, private_api_url}"
            ),
        ),
    ]
    output: str = "build/nginx/{region}.conf"
    format: Literal["full", "servers"] = "full"
    listen: str = "80"
    vpc_endpoint: str | None = None
    resolver: str | None = None
    ssl_certificate: str | None = None
    ssl_certificate_key: str | None = None
    upstream_ca: str | None = None
    reload: str | None = Field(
        default=None,
        description="A command run once the new file passed `nginx -t`; if it fails, the "
        "previous file is put back and the region stops before traffic.",
    )


class S3Object(StrictModel):
    """A deployment package in S3."""

    bucket: str
    key: str
    version: str | None = None


class LambdaCode(StrictModel):
    """Where the new code comes from; omit `code` to publish what `$LATEST` holds."""

    zip: str | None = None
    s3: S3Object | None = None
    image_uri: str | None = None
    version: Text | None = Field(default=None, pattern=r"^\d+$")

    @model_validator(mode="after")
    def _one_source(self) -> LambdaCode:
        _exactly_one(self, ("zip", "s3", "image_uri", "version"), "code")
        return self


class LambdaTarget(StrictModel):
    """A Lambda function whose alias moves to a new version."""

    function: str = Field(min_length=1)
    alias: AliasName
    code: LambdaCode | None = None


class StepFunctionsTarget(StrictModel):
    """A state machine whose alias moves to a new version."""

    state_machine: str = Field(min_length=1)
    alias: AliasName
    definition: str | None = None


class Hook(StrictModel):
    """A check run against the new version; a failure stops or rolls back the release."""

    lambda_: str | None = Field(default=None, alias="lambda")
    stepfunctions: str | None = None
    command: str | None = None
    http: str | None = Field(default=None, pattern=r"^https?://")
    timeout: Duration = timedelta(minutes=5)

    @model_validator(mode="after")
    def _one_kind(self) -> Hook:
        _exactly_one(self, ("lambda", "stepfunctions", "command", "http"), "a hook")
        return self


class Hooks(StrictModel):
    """Checks before any traffic moves and after all of it has; a notice at a manual pause."""

    before_traffic: Hook | None = None
    after_traffic: Hook | None = None
    on_pause: Hook | None = Field(
        default=None,
        description="Run once when a `pause: manual` step is reached, e.g. to tell a human;"
        " `{promote_command}` is the command that releases the pause. A failure is a warning.",
    )


class Target(StrictModel):
    """One alias released by this plan, in every region."""

    name: str = Field(pattern=NAME_PATTERN)
    lambda_: LambdaTarget | None = Field(default=None, alias="lambda")
    stepfunctions: StepFunctionsTarget | None = None
    strategy: StrategySpec
    alarms: list[str] = Field(default_factory=list)
    hooks: Hooks = Field(default_factory=Hooks)

    @model_validator(mode="after")
    def _one_kind(self) -> Target:
        _exactly_one(self, ("lambda", "stepfunctions"), "a target")
        return self

    @property
    def kind(self) -> Literal["lambda", "stepfunctions"]:
        return "lambda" if self.lambda_ is not None else "stepfunctions"


class AlarmPolicy(StrictModel):
    """How alarms are watched, for every target."""

    poll_interval: Duration = timedelta(seconds=10)
    insufficient_data: Literal["ignore", "fail"] = "ignore"
    bake: Duration = timedelta(0)

    @field_validator("poll_interval")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise PydanticCustomError("duration", "the poll interval must be above zero")
        return value


class StateSettings(StrictModel):
    """Where rollout records what it did, and how it locks a rollout name."""

    backend: Literal["local", "s3"] = "local"
    path: str | None = None
    bucket: str | None = None
    prefix: str | None = None
    lock_table: str | None = None
    region: RegionName | None = None

    @model_validator(mode="after")
    def _backend_keys(self) -> StateSettings:
        if self.backend == "s3":
            missing = [key for key in ("bucket", "lock_table") if getattr(self, key) is None]
            if missing:
                raise PydanticCustomError(
                    "state", "the s3 backend needs {missing}", {"missing": " and ".join(missing)}
                )
            if self.path is not None:
                raise PydanticCustomError("state", "path is for the local backend; use prefix")
        else:
            extra = [k for k in ("bucket", "prefix", "lock_table", "region") if getattr(self, k)]
            if extra:
                raise PydanticCustomError(
                    "state", "{extra} need backend: s3", {"extra": ", ".join(extra)}
                )
        return self


def _plan_name(value: str) -> str:
    for suffix in STATE_FILE_SUFFIXES:
        # Lower case too: a case-insensitive file system makes .LOCK and .lock one file.
        if value.lower().endswith(suffix):
            raise PydanticCustomError(
                "plan_name",
                "{name} ends in {suffix}, a suffix of rollout's own state files (NAME.json, "
                "NAME.requests.json, NAME.history.jsonl, NAME.lock), so its files could clash "
                "with another plan's; choose a name without it",
                {"name": repr(value), "suffix": suffix},
            )
    return value


# What apply does with an alias already split between two versions (a canary in flight).
SplitAliasPolicy = Literal["refuse", "replace"]
# Whether earlier waves are rolled back when a later wave fails.
WaveFailurePolicy = Literal["keep", "rollback"]


def _version(value: Any) -> Any:
    if value != SCHEMA_VERSION:
        raise PydanticCustomError(
            "version",
            "this rollout reads plan version {supported}, not {value}",
            {"supported": SCHEMA_VERSION, "value": repr(value)},
        )
    return value


class Plan(StrictModel):
    """A whole release: regions, waves, stages and targets."""

    model_config = StrictModel.model_config | {"title": "rollout plan (version 1)"}

    version: Annotated[Literal[1], BeforeValidator(_version)]
    name: Annotated[str, AfterValidator(_plan_name)] = Field(pattern=NAME_PATTERN, max_length=64)
    regions: list[RegionName] = Field(min_length=1)
    waves: list[list[RegionName]] | None = None
    parallelism: int = Field(default=4, ge=1)
    on_split_alias: SplitAliasPolicy = Field(
        default="refuse",
        description=(
            "What apply does with an alias already split between two versions (a canary in "
            "flight): refuse to start, or replace the split, shifting from whichever version "
            "has the larger weight."
        ),
    )
    on_wave_failure: WaveFailurePolicy = Field(
        default="keep",
        description=(
            "When a region fails, later waves never start; keep leaves earlier waves released, "
            "rollback rolls them back too."
        ),
    )
    aws: AwsSettings = Field(default_factory=AwsSettings)
    terraform: TerraformSection | None = None
    nginx: NginxStage | None = None
    targets: list[Target] = Field(min_length=1)
    alarms: AlarmPolicy = Field(default_factory=AlarmPolicy)
    state: StateSettings = Field(default_factory=StateSettings)

    def wave_list(self) -> list[list[str]]:
        """The waves to run, in order: as written, or every region in one wave."""
        return [list(wave) for wave in self.waves] if self.waves else [list(self.regions)]
