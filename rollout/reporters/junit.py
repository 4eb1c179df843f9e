"""`--junit FILE`: the run as JUnit XML, one test case per region and target, for CI test views.

Jenkins' JUnit plugin and GitHub's test-report actions read it. The file is
built with xml.etree (escaping is its job, not ours), every string masked, and
written in one rename when the run ends, refusals included.
"""

from __future__ import annotations

import re
import socket
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from xml.etree import ElementTree as ET

from rollout.engine import events as ev
from rollout.files import atomic_write
from rollout.redact import mask_secrets
from rollout.reporters.event_lines import format_line
from rollout.reporters.output import warn

# Characters XML 1.0 cannot carry at all (a hook may print any byte), and terminal colours.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# A fallback test case when no target was named in the run (a rollback with nothing to undo).
ALL_TARGETS = "all targets"
STAGES = ("terraform", "nginx")


class Goal(Enum):
    """What the run set out to do, which decides the region endings that pass."""

    RELEASE = "release"  # apply, resume: a region passes when it serves the new versions
    RESTORE = "restore"  # rollback: a region passes when it is back on the recorded routing


_PASSING = {
    Goal.RELEASE: frozenset({"succeeded", "nothing_to_do"}),
    Goal.RESTORE: frozenset({"rolled_back", "nothing_to_do"}),
}
# A region ending that is not a pass: how JUnit shows it on the region's test cases.
_ENDING = {
    "rolled_back": "failure",  # the release was stopped and undone: a check that failed
    "failed_before_traffic": "failure",  # a stage or hook said no before anything moved
    "needs_human": "error",
    "skipped": "skipped",
}


def check_writable(path: Path) -> None:
    """OSError now if `path` could not be written when the run ends (a file beside it is made
    and removed: the report itself is only written whole, at the end)."""
    if path.is_dir():
        raise IsADirectoryError(21, "it is a folder")
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}."):
        pass


def clean(text: str) -> str:
    """`text` masked, without terminal colours or characters XML 1.0 forbids."""
    return _NOT_XML.sub("", _ANSI.sub("", mask_secrets(text)))


@dataclass
class _Span:
    """The first and last moment something was said about a region, a target or a stage."""

    first: datetime | None = None
    last: datetime | None = None

    def add(self, event: ev.Event) -> None:
        self.first = self.first or event.at
        self.last = event.at

    @property
    def seconds(self) -> str:
        return _seconds(self.first, self.last)


@dataclass
class _Case(_Span):
    """A target or stage of one region, and its own trouble (drift, a failed rollback)."""

    problem: tuple[str, str] | None = None  # (type, message)


@dataclass
class _Region(_Span):
    """What one region's events said: its lines, its targets and stages, its ending and why."""

    targets: dict[str, _Case] = field(default_factory=dict)  # in the order seen
    stages: dict[str, _Case] = field(default_factory=dict)  # terraform, nginx
    # (owner, line); the owner is ("target", NAME), ("stage", NAME) or None for the region's own.
    lines: list[tuple[tuple[str, str] | None, str]] = field(default_factory=list)
    outcome: str | None = None
    message: str = ""
    reason: str | None = None  # why the rollback began

    def lines_of_target(self, name: str) -> list[str]:
        """A target's lines, with the region's own (alarms, the rollback): part of its story."""
        return [line for who, line in self.lines if who in (("target", name), None)]

    def lines_of_stage(self, name: str) -> list[str]:
        return [line for who, line in self.lines if who == ("stage", name)]


@dataclass
class _Ending:
    """A run that ended without a rollout (refused, nothing to do, or cut short)."""

    exit_code: int
    lines: tuple[str, ...]


class JUnitReporter:
    """Collects the run's events; `close` writes the report (a warning if it cannot)."""

    def __init__(self, path: Path, goal: Goal = Goal.RELEASE) -> None:
        self.path = path
        self.goal = goal
        self.plan: str | None = None
        self.rollout_id: str | None = None
        self.regions: dict[str, _Region] = {}
        self.span = _Span()
        self.finished: ev.RolloutFinished | None = None
        self.ending: _Ending | None = None
        self._written = False

    def __call__(self, event: ev.Event) -> None:
        self.span.add(event)
        self.rollout_id = event.rollout_id or self.rollout_id
        match event:
            case ev.RolloutStarted(plan=plan, waves=waves):
                self.plan = plan
                for wave in waves:
                    for region in wave:
                        self._region(region)
            case ev.RolloutFinished():
                self.finished = event
            case ev.Event(region=str(region)):
                self._region_event(self._region(region), event)

    def ended_without_run(self, exit_code: int, lines: Sequence[str]) -> None:
        """The command ended without a rollout's last event: `lines` say why."""
        self.ending = _Ending(exit_code, tuple(lines))

    def close(self) -> None:
        """Write the report once, in one rename; a failure is a warning, never an exit code."""
        if self._written:
            return
        self._written = True
        try:
            atomic_write(self.path, self.render(), mode=0o644)
        except OSError as exc:
            warn(f"warning: --junit {self.path}: not written ({exc.strerror or exc})")

    def render(self) -> bytes:
        """The report as XML bytes."""
        name = f"rollout {self.plan}" if self.plan else "rollout"
        root = ET.Element("testsuites", name=clean(name))
        suites = [self._suite(region, found) for region, found in self.regions.items()]
        if self.ending is not None or self.finished is None:  # refused, or cut short
            suites.append(self._ending_suite())
        root.extend(suites)
        for key in ("tests", "failures", "errors"):
            root.set(key, str(sum(int(suite.get(key, "0")) for suite in suites)))
        root.set("time", self.span.seconds)
        ET.indent(root)
        document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        return document + b"\n"

    # -- collecting ------------------------------------------------------------------------

    def _region(self, name: str) -> _Region:
        return self.regions.setdefault(name, _Region())

    def _region_event(self, region: _Region, event: ev.Event) -> None:
        region.add(event)
        stage = next((s for s in STAGES if event.kind.startswith(f"{s}_")), None)
        owner = ("target", event.target) if event.target else ("stage", stage) if stage else None
        region.lines.append((owner, format_line(event)))
        if event.target is not None:
            case = region.targets.setdefault(event.target, _Case())
            case.add(event)
            case.problem = case.problem or _problem(event)
        elif stage is not None:
            region.stages.setdefault(stage, _Case()).add(event)
        match event:
            case ev.RollbackStarted(reason=reason):
                region.reason = region.reason or reason
            case ev.RegionFinished(outcome=outcome, message=message):
                region.outcome, region.message = outcome, message  # the last word counts

    # -- building ----------------------------------------------------------------------------

    def _suite(self, name: str, region: _Region) -> ET.Element:
        suite = ET.Element("testsuite", name=clean(name))
        self._properties(suite)
        cases = [self._stage_case(name, region, stage) for stage in region.stages]
        targets = list(region.targets) or self._known_targets() or [ALL_TARGETS]
        cases += [self._target_case(name, region, target) for target in targets]
        suite.extend(cases)  # every line is in a case: a suite-wide copy would double the file
        _count(suite, cases)
        suite.set("time", region.seconds)
        if region.first is not None:
            suite.set("timestamp", region.first.strftime("%Y-%m-%dT%H:%M:%S"))
        suite.set("hostname", clean(socket.gethostname()))
        return suite

    def _known_targets(self) -> list[str]:
        """Every target any region named: a skipped region never names its own."""
        names: dict[str, None] = {}
        for region in self.regions.values():
            names.update(dict.fromkeys(region.targets))
        return list(names)

    def _stage_case(self, name: str, region: _Region, stage: str) -> ET.Element:
        case = region.stages[stage]
        element = _testcase(name, stage, case.seconds, region.lines_of_stage(stage))
        failed = not self._passed(region) and region.message.startswith(f"{stage}:")
        if failed and region.outcome is not None:
            _mark(element, (_ENDING.get(region.outcome, "error"), region.outcome, region.message))
        return element

    def _target_case(self, name: str, region: _Region, target: str) -> ET.Element:
        case = region.targets.get(target)
        seconds = case.seconds if case is not None else region.seconds
        element = _testcase(name, target, seconds, region.lines_of_target(target))
        ending = self._target_ending(region, case)
        if ending is not None:
            _mark(element, ending, region.message)
        return element

    def _target_ending(self, region: _Region, case: _Case | None) -> tuple[str, str, str] | None:
        """(element, type, message) for a target that did not pass; None when it did."""
        if case is not None and case.problem is not None:
            return ("error", *case.problem)
        if region.outcome is None:
            return ("error", "unfinished", self._cut_short())
        if self._passed(region):
            return None
        if case is None and region.message.startswith(tuple(f"{s}:" for s in STAGES)):
            return ("skipped", "not_started", f"not started: {region.message}")
        kind = _ENDING.get(region.outcome, "error")
        message = region.reason if region.outcome == "rolled_back" and region.reason else ""
        return (kind, region.outcome, message or region.message)

    def _passed(self, region: _Region) -> bool:
        # A run that ended with exit 0 did what it set out to do (a `resume` that finished a
        # rollback cut short is a restore, though it was asked to release).
        done = self.finished is not None and self.finished.exit_code == 0
        return done or region.outcome in _PASSING[self.goal]

    def _cut_short(self) -> str:
        if self.ending is not None:
            return _first_error(self.ending.lines)
        return "the run ended before this region did"

    def _ending_suite(self) -> ET.Element:
        """One `rollout` case for a run that ended without its last event: refused, or cut short."""
        ending = self.ending or _Ending(1, ("error: the run ended before it said how",))
        suite = ET.Element("testsuite", name="rollout")
        self._properties(suite)
        case = _testcase("rollout", "rollout", "0.000", ending.lines)
        if ending.exit_code != 0:
            kind = "cut_short" if self.regions else "refused"  # regions: it had begun
            _mark(case, ("error", kind, _first_error(ending.lines)))
        suite.append(case)
        _count(suite, [case])
        suite.set("time", "0.000")
        suite.set("hostname", clean(socket.gethostname()))
        return suite

    def _properties(self, suite: ET.Element) -> None:
        values = {"rollout_id": self.rollout_id}
        if self.finished is not None:
            values["outcome"] = self.finished.outcome
            values["exit_code"] = str(self.finished.exit_code)
        elif self.ending is not None:
            values["exit_code"] = str(self.ending.exit_code)
        shown = {name: value for name, value in values.items() if value is not None}
        if shown:
            properties = ET.SubElement(suite, "properties")
            for name, value in shown.items():
                ET.SubElement(properties, "property", name=name, value=clean(value))


def _problem(event: ev.Event) -> tuple[str, str] | None:
    match event:
        case ev.RollbackFailed(error=error):
            return ("rollback_failed", f"rollback failed: {error}")
        case ev.DriftDetected(expected=expected, found=found):
            return ("drift", f"drift: expected {expected}, found {found}")
    return None


def _testcase(classname: str, name: str, seconds: str, lines: Iterable[str]) -> ET.Element:
    element = ET.Element("testcase", classname=clean(classname), name=clean(name), time=seconds)
    text = "\n".join(lines)
    if text:
        ET.SubElement(element, "system-out").text = clean(text)
    return element


def _mark(case: ET.Element, ending: tuple[str, str, str], detail: str = "") -> None:
    """The `<failure>`, `<error>` or `<skipped>` (kind, type, message) goes first, where JUnit
    readers look; `detail` (the region's last word) is its text when it says more."""
    kind, type_, message = ending
    mark = ET.Element(kind, message=clean(message), type=clean(type_))
    if detail and detail != message:
        mark.text = clean(detail)
    case.insert(0, mark)


def _count(suite: ET.Element, cases: Sequence[ET.Element]) -> None:
    suite.set("tests", str(len(cases)))
    for kind, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        suite.set(key, str(sum(1 for case in cases if case.find(kind) is not None)))


def _seconds(first: datetime | None, last: datetime | None) -> str:
    # Jenkins' schema allows no sign and at most three decimals; a wall clock set back by a
    # second must not make the report unreadable.
    return f"{max(0.0, (last - first).total_seconds()):.3f}" if first and last else "0.000"


def _first_error(lines: Sequence[str]) -> str:
    """The line that says why, without its `error: ` prefix."""
    chosen = next((line for line in lines if line.startswith("error:")), lines[0] if lines else "")
    return chosen.removeprefix("error:").strip() or "refused"
