"""Where state documents live: the local backend, files in `.rollout/` written atomically.

Per rollout name: `NAME.json` (the current or last rollout, written only by the
process that holds the lock), `NAME.requests.json` (abort and promote requests,
written by other commands), `NAME.history.jsonl` and `NAME.lock`.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from rollout.files import atomic_write, copy_beside, sync_folder
from rollout.state.model import LockHolder, Requests, RolloutRecord

Document = TypeVar("Document", bound=BaseModel)
LOCK_ATTEMPTS = 3

# What to do about a damaged file, by what it holds.
RECORD_ADVICE = (
    "move the file aside (keep it: it says which versions served before), then check the "
    "aliases with `rollout status`"
)
# Its own file: `abort` and `promote` race to read-modify-write the requests, and an abort
# written away by a promote would let traffic keep moving.
ABORT_SUFFIX = ".requests.abort"
REQUESTS_ADVICE = "remove it: it only holds abort and promote requests to a running rollout"
HISTORY_ADVICE = "remove that line or move the file aside: it only lists past rollouts"


class StateError(Exception):
    """The state store cannot be read or written; str() says where and why."""


def parse_document(model: type[Document], text: str, where: str, advice: str) -> Document:
    """A stored document, or a StateError naming it and what to do: never a parser's traceback."""
    if not text.strip():
        raise StateError(f"{where} is empty (truncated?): {advice}")
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        detail = first["msg"] if first["type"] == "json_invalid" else "not a rollout document"
        raise StateError(
            f"{where} is not readable ({detail}; truncated or edited?): {advice}"
        ) from None


def history_lines(text: str, where: str) -> Iterator[RolloutRecord]:
    """The records of a history file, one per line; a damaged line is named by its number."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield parse_document(RolloutRecord, line, f"line {number} of {where}", HISTORY_ADVICE)


def unreadable_holder(where: str, text: str) -> LockHolder:
    """The holder of a lock file that cannot be read: unknown, and breakable on purpose."""
    why = "empty" if not text.strip() else "unreadable"
    return LockHolder(
        user="?",
        host="?",
        pid=0,
        rollout_id="?",
        problem=(
            f"the lock file {where} is {why}: a process may have died while taking the lock; "
            "`rollout unlock --force` breaks it"
        ),
    )


class LockHeldError(Exception):
    """Another rollout of the same name holds the lock."""

    def __init__(self, holder: LockHolder, *, dead: bool) -> None:
        self.holder = holder
        self.dead = dead
        state = "a process that is no longer running" if dead else "another rollout"
        super().__init__(f"the lock is held by {state}: {holder.describe()}")


class StateStore(Protocol):
    """Durable state of rollouts, by name."""

    def read(self, name: str) -> RolloutRecord | None: ...
    def write(self, record: RolloutRecord) -> None: ...
    def read_requests(self, name: str) -> Requests: ...
    def write_requests(self, name: str, requests: Requests) -> None: ...
    def request_abort(self, name: str) -> None: ...
    def clear_requests(self, name: str) -> None: ...
    def append_history(self, record: RolloutRecord) -> None: ...
    def history(self, name: str) -> list[RolloutRecord]: ...
    def acquire_lock(self, name: str, holder: LockHolder) -> None: ...
    def refresh_lock(self, name: str, holder: LockHolder) -> None: ...
    def release_lock(self, name: str, holder: LockHolder) -> None: ...
    def lock_holder(self, name: str) -> LockHolder | None: ...
    def break_lock(self, name: str, only: LockHolder | None = None) -> LockHolder | None: ...


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn an OS failure (no folder, read-only, disk full) into a StateError naming the file."""
    try:
        yield
    except OSError as exc:
        raise StateError(f"cannot write {path}: {exc.strerror or exc}") from None


def _atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old or the new file, never half of one."""
    with _writing(path):
        atomic_write(path, text)


def _create_whole(path: Path, text: str) -> bool:
    """Create `path` holding `text`, whole or not at all; False when it exists already."""
    with _writing(path):
        temporary = copy_beside(path, text)
        try:
            os.link(temporary, path)  # fails if the path exists: a lock taken, never half-written
        except FileExistsError:
            return False
        finally:
            temporary.unlink(missing_ok=True)
        sync_folder(path.parent)
    return True


def _ends_a_line(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def holder_is_dead(holder: LockHolder) -> bool:
    """Whether the lock's holder is known to have died: a process of this host that is gone."""
    return holder.host == socket.gethostname() and not process_alive(holder.pid)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalStateStore:
    """State files in one folder, mode 0600."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str, suffix: str) -> Path:
        return self.folder / f"{name}{suffix}"

    def _read_text(self, path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            return "\x00"  # not text: the parser names the file
        except OSError as exc:
            raise StateError(f"cannot read {path}: {exc.strerror}") from None

    def read(self, name: str) -> RolloutRecord | None:
        """The current (or last) rollout of `name`."""
        path = self._path(name, ".json")
        text = self._read_text(path)
        return (
            None if text is None else parse_document(RolloutRecord, text, str(path), RECORD_ADVICE)
        )

    def write(self, record: RolloutRecord) -> None:
        """Replace the rollout's document atomically."""
        _atomic_write(self._path(record.plan, ".json"), record.model_dump_json(indent=2))

    def read_requests(self, name: str) -> Requests:
        """Requests made by other commands to the running rollout."""
        path = self._path(name, ".requests.json")
        text = self._read_text(path)
        requests = (
            Requests()
            if text is None
            else parse_document(Requests, text, str(path), REQUESTS_ADVICE)
        )
        if self._path(name, ABORT_SUFFIX).exists():
            requests = requests.model_copy(update={"abort": True})
        return requests

    def write_requests(self, name: str, requests: Requests) -> None:
        """Write promotions; an abort is kept apart so no promote can write it away."""
        if requests.abort:
            self.request_abort(name)
        _atomic_write(self._path(name, ".requests.json"), requests.model_dump_json(indent=2))

    def request_abort(self, name: str) -> None:
        """Ask the running rollout to stop and roll back."""
        _atomic_write(self._path(name, ABORT_SUFFIX), "abort requested\n")

    def clear_requests(self, name: str) -> None:
        """Forget every request: a new rollout starts with none."""
        with _writing(self._path(name, ABORT_SUFFIX)):
            self._path(name, ABORT_SUFFIX).unlink(missing_ok=True)
        _atomic_write(self._path(name, ".requests.json"), Requests().model_dump_json(indent=2))

    def append_history(self, record: RolloutRecord) -> None:
        """Add a finished rollout to the name's history."""
        path = self._path(record.plan, ".history.jsonl")
        with _writing(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a+", encoding="utf-8") as handle:
                # A line cut by a crash must not swallow the record written after it.
                handle.seek(0, os.SEEK_END)
                cut = handle.tell() > 0 and not _ends_a_line(path)
                handle.write(("\n" if cut else "") + record.model_dump_json() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            path.chmod(0o600)

    def history(self, name: str) -> list[RolloutRecord]:
        """Every finished rollout of `name`, oldest first."""
        path = self._path(name, ".history.jsonl")
        return list(history_lines(self._read_text(path) or "", str(path)))

    # -- the lock --------------------------------------------------------------------------------

    def acquire_lock(self, name: str, holder: LockHolder) -> None:
        """Take the lock, or raise LockHeldError naming its holder."""
        path = self._path(name, ".lock")
        for _ in range(LOCK_ATTEMPTS):
            if _create_whole(path, holder.model_dump_json()):
                return
            current = self.lock_holder(name)
            if current is not None:
                raise LockHeldError(current, dead=holder_is_dead(current))
            # Released between our two looks: try again.
        raise StateError(f"cannot take the lock {path}: it keeps appearing and disappearing")

    def refresh_lock(self, name: str, holder: LockHolder) -> None:
        """Show the holder is alive (local locks are judged by pid; kept for the record).
        A lock file gone from under a running rollout (its folder cleaned) is taken again:
        without it, `abort` and `status` would say nothing runs and a second rollout could
        start; a lock someone else took meanwhile is a StateError."""
        path = self._path(name, ".lock")
        current = self.lock_holder(name)
        if current is None and _create_whole(path, holder.model_dump_json()):
            return
        current = current or self.lock_holder(name)
        if current is None or current.rollout_id != holder.rollout_id:
            taken = f"now held by {current.describe()}" if current else "it keeps disappearing"
            raise StateError(f"lost the lock {path}: {taken}")
        _atomic_write(path, holder.model_dump_json())

    def release_lock(self, name: str, holder: LockHolder) -> None:
        """Give the lock back, if it is still ours."""
        current = self.lock_holder(name)
        if current is not None and current.rollout_id == holder.rollout_id:
            with _writing(self._path(name, ".lock")), contextlib.suppress(FileNotFoundError):
                self._path(name, ".lock").unlink()

    def lock_holder(self, name: str) -> LockHolder | None:
        return self._holder_in(self._path(name, ".lock"))

    def _holder_in(self, path: Path) -> LockHolder | None:
        text = self._read_text(path)
        if text is None:
            return None
        try:
            return LockHolder.model_validate_json(text)
        except ValueError:
            return unreadable_holder(str(path), text)

    def break_lock(self, name: str, only: LockHolder | None = None) -> LockHolder | None:
        """Remove the lock whoever holds it (or only if `only` still does: LockHeldError
        otherwise); return who did."""
        if only is not None:
            self._break_if_held_by(name, only)
            return only
        holder = self.lock_holder(name)
        with _writing(self._path(name, ".lock")), contextlib.suppress(FileNotFoundError):
            self._path(name, ".lock").unlink()
        return holder

    def _break_if_held_by(self, name: str, only: LockHolder) -> None:
        # Moved aside first, then looked at: two takers of a dead holder's lock cannot both
        # remove it, nor the second remove what the first has just taken.
        path = self._path(name, ".lock")
        aside = path.with_name(f".{path.name}.{os.getpid()}.broken")
        with _writing(path):
            try:
                path.rename(aside)
            except FileNotFoundError:
                return
            try:
                moved = self._holder_in(aside)
                if moved is not None and moved != only:
                    with contextlib.suppress(FileExistsError):
                        os.link(aside, path)  # put back, unless a newer holder came meanwhile
                    raise LockHeldError(moved, dead=holder_is_dead(moved))
            finally:
                aside.unlink(missing_ok=True)
