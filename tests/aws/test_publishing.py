"""Publishing many Lambda functions: every code update is sent before any is waited for.

moto applies a code update at once, which hides the wait; this stub takes 1.5 s of
fake time per update, as real Lambda does, and answers with AWS's shapes.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from rollout.aws.lambda_target import LambdaCodeSource, LambdaTargetAdapter, code_sha256
from rollout.aws.pacing import ServicePacer
from rollout.engine.alarm_watch import AlarmPolicy
from rollout.engine.outcome import Outcome
from rollout.engine.region import RegionRollout, TargetRun
from strategies import codedeploy
from tests.engine.fakes import EventLog, FakeAlarms, FakeClock, FakeHooks

UPDATE_SECONDS = 1.5
ARN = "arn:aws:lambda:us-east-1:123456789012:function"


class SlowLambda:
    """A few functions behind `live` aliases; a code update takes UPDATE_SECONDS to apply."""

    def __init__(self, clock: FakeClock, failing: str | None = None) -> None:
        self.clock = clock
        self.failing = failing
        self.calls: list[tuple[float, str, str]] = []  # (time, operation, function)
        self.latest: dict[str, str] = {}
        self.ready_at: dict[str, float] = {}
        self.versions: dict[str, list[str]] = {}
        self.serving: dict[str, str] = {}

    def add(self, name: str) -> None:
        self.latest[name] = "old"
        self.versions[name] = ["old"]

    def _called(self, operation: str, name: str) -> None:
        self.calls.append((self.clock.time, operation, name))

    def get_alias(self, FunctionName: str, Name: str) -> dict[str, Any]:
        self._called("GetAlias", FunctionName)
        version = self.serving.get(FunctionName, "1")
        arn = f"{ARN}:{FunctionName}:{Name}"
        return {"AliasArn": arn, "FunctionVersion": version, "RevisionId": f"r{version}"}

    def get_function(self, FunctionName: str, Qualifier: str = "$LATEST") -> dict[str, Any]:
        self._called("GetFunction", FunctionName)
        if Qualifier != "$LATEST":
            sha = self.versions[FunctionName][int(Qualifier) - 1]
            return {"Configuration": {"CodeSha256": sha, "LastUpdateStatus": "Successful"}}
        updating = self.clock.time < self.ready_at.get(FunctionName, 0.0)
        status = "InProgress" if updating else "Successful"
        if not updating and FunctionName == self.failing:
            status = "Failed"
        return {
            "Configuration": {
                "CodeSha256": self.latest[FunctionName],
                "LastUpdateStatus": status,
                "LastUpdateStatusReason": "image layer too large" if status == "Failed" else "",
            }
        }

    def update_function_code(self, FunctionName: str, ZipFile: bytes) -> dict[str, Any]:
        self._called("UpdateFunctionCode", FunctionName)
        self.latest[FunctionName] = code_sha256(ZipFile)
        self.ready_at[FunctionName] = self.clock.time + UPDATE_SECONDS
        return {"CodeSha256": self.latest[FunctionName]}

    def publish_version(self, FunctionName: str, CodeSha256: str, Description: str) -> Any:
        self._called("PublishVersion", FunctionName)
        # Lambda refuses to publish while an update is in progress.
        assert self.clock.time >= self.ready_at[FunctionName], "published mid-update"
        self.versions[FunctionName].append(CodeSha256)
        number = len(self.versions[FunctionName])
        return {"Version": str(number), "FunctionArn": f"{ARN}:{FunctionName}:{number}"}

    def update_alias(self, FunctionName: str, FunctionVersion: str, **_: Any) -> dict[str, Any]:
        self._called("UpdateAlias", FunctionName)
        self.serving[FunctionName] = FunctionVersion
        arn = f"{ARN}:{FunctionName}:live"
        return {"AliasArn": arn, "RevisionId": f"r{FunctionVersion}"}

    def times(self, operation: str) -> list[float]:
        return [at for at, called, _ in self.calls if called == operation]


def release(tmp_path: Path, names: list[str], failing: str | None = None) -> tuple[Any, ...]:
    clock = FakeClock()
    lam = SlowLambda(clock, failing)
    package = tmp_path / "v2.zip"
    package.write_bytes(b"new code")
    pacer = ServicePacer("lambda", clock)
    runs = []
    for name in names:
        lam.add(name)
        adapter = LambdaTargetAdapter(
            lam,
            pacer,
            function=name,
            alias="live",
            code=LambdaCodeSource(zip_path=package),
            region="us-east-1",
            clock=clock,
        )
        runs.append(TargetRun(name, adapter, codedeploy.steps("AllAtOnce", bake=timedelta(0))))
    engine = RegionRollout(
        region="us-east-1",
        targets=runs,
        alarms=FakeAlarms(),
        clock=clock,
        policy=AlarmPolicy(poll_seconds=5.0),
        emit=EventLog(),
        hooks=FakeHooks(),
    )
    return engine.run(), lam


def test_every_code_update_is_sent_before_any_is_waited_for(tmp_path: Path) -> None:
    names = [f"fn{n}" for n in range(10)]
    result, lam = release(tmp_path, names)

    assert result.outcome is Outcome.SUCCEEDED, result.message
    assert max(lam.times("UpdateFunctionCode")) < min(lam.times("PublishVersion"))
    assert len(lam.times("PublishVersion")) == 10
    # About one update's time, not ten: the updates ran while the first was waited for.
    assert max(lam.times("PublishVersion")) < 2 * UPDATE_SECONDS


def test_a_failed_code_update_fails_the_release_before_traffic(tmp_path: Path) -> None:
    result, lam = release(tmp_path, ["fn0", "fn1", "fn2"], failing="fn1")

    assert result.outcome is Outcome.FAILED_BEFORE_TRAFFIC
    assert "UpdateFunctionCode on fn1:live (us-east-1) failed: image layer too large" in (
        result.message
    )
    assert lam.times("UpdateAlias") == []
