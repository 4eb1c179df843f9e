"""Loads a plan file: parse, validate, cross-check; PlanInvalidError lists every problem."""

from __future__ import annotations

import gc
import os
import select
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rollout.plan.checks import check_placeholders, check_plan
from rollout.plan.diagnostics import plan_errors
from rollout.plan.errors import KeyPath, Location, PlanError, PlanInvalidError
from rollout.plan.model import Plan
from rollout.plan.source import SourceDocument, parse_source

MAX_PLAN_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class LoadedPlan:
    """A valid plan and where it was read from (relative paths in it start at `base_dir`)."""

    plan: Plan
    file: Path
    base_dir: Path
    # Where each key was written: a value checked later (once a region fills its
    # placeholders) is still reported with its line.
    locations: Mapping[KeyPath, Location] = field(default_factory=dict)


def load_plan(file: Path) -> LoadedPlan:
    """Read and check the plan file at `file`."""
    with collector_paused():
        source = parse_source(read_limited(file), str(file))
        return LoadedPlan(validate_source(source), file, plan_folder(file), source.locations)


def plan_folder(file: Path) -> Path:
    """Where the plan's relative paths (and its local state) start: the plan's folder.
    A plan read through a descriptor (`-f /dev/stdin`, `-f <(...)`) starts at the file the
    descriptor stands for, or at the current directory for a pipe: never in /dev, where a
    record would be lost at reboot and missed by `status` and the lock of the real file."""
    if file.absolute().parts[1:2] not in (("dev",), ("proc",)):
        return file.parent
    return file.resolve().parent if file.is_file() else Path.cwd()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a plan is read: it would walk the
    growing tree of a large plan again and again (half the parse time at 1000 targets),
    and nothing made here is garbage until the plan is dropped."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


PIPE_WAIT_SECONDS = 60.0  # how long a named pipe may stay silent before it is given up


def _written_to(descriptor: int) -> bool:
    """Whether a pipe has something to read (or its writer left) within the wait; a pipe
    nobody has opened for writing yet would otherwise read as empty at once."""
    waiting = select.poll()
    waiting.register(descriptor, select.POLLIN)
    return bool(waiting.poll(PIPE_WAIT_SECONDS * 1000))


def read_limited(file: Path, what: str = "plan file") -> str:
    """A YAML file's text, read up to the size limit whatever the file is: /dev/zero, or a
    pipe (`-f /dev/stdin`; a named pipe nobody writes to reads as empty, not forever)."""

    def fail(message: str) -> PlanInvalidError:
        return PlanInvalidError([PlanError(Location(str(file), 1, 1), (), message)])

    try:
        # Opening a pipe waits for a writer unless asked not to; reading then waits again.
        descriptor = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
        os.set_blocking(descriptor, True)
        with os.fdopen(descriptor, "rb") as handle:
            if stat.S_ISFIFO(os.fstat(descriptor).st_mode) and not _written_to(descriptor):
                raise fail(f"nobody wrote to this pipe within {PIPE_WAIT_SECONDS:g}s")
            # Read past the limit rather than trust st_size: a pipe or /dev/zero reports 0.
            content = handle.read(MAX_PLAN_BYTES + 1)
        if len(content) > MAX_PLAN_BYTES:
            raise fail(f"the file is larger than {MAX_PLAN_BYTES // (1024 * 1024)} MiB")
        return content.decode("utf-8")
    except FileNotFoundError:
        hint = " (give the plan with -f PLAN)" if what == "plan file" else ""
        raise fail(f"no such file{hint}") from None
    except IsADirectoryError:
        raise fail(f"is a directory, not a {what}") from None
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror}") from None


def validate_source(source: SourceDocument) -> Plan:
    """Validate parsed data as a plan, collecting every located problem."""
    if not isinstance(source.data, dict):
        raise PlanInvalidError(
            [source.error((), "a plan is a mapping of keys such as version, name, regions")]
        )
    errors = check_placeholders(source)
    context: dict[str, Any] = {}
    try:
        plan = Plan.model_validate(source.data, context=context)
    except ValidationError as exc:
        raise PlanInvalidError(
            [*plan_errors(exc, source, context.get("sections", {})), *errors]
        ) from None
    errors += check_plan(plan, source)
    if errors:
        raise PlanInvalidError(errors)
    return plan
