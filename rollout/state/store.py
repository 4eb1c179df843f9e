"""Where state documents live: the local backend, files in `.rollout/` written atomically.

Per rollout name: `NAME.json` (the current or last rollout, written only by the
process that holds the lock), `NAME.requests.json` (abort and promote requests,
written by other commands), `NAME.history.jsonl` and `NAME.lock`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from pathlib import Path
from typing import Protocol

from rollout.state.model import LockHolder, Requests, RolloutRecord


class StateError(Exception):
    """The state store cannot be read or written; str() says where and why."""


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
    def append_history(self, record: RolloutRecord) -> None: ...
    def history(self, name: str) -> list[RolloutRecord]: ...
    def acquire_lock(self, name: str, holder: LockHolder) -> None: ...
    def refresh_lock(self, name: str, holder: LockHolder) -> None: ...
    def release_lock(self, name: str, holder: LockHolder) -> None: ...
    def lock_holder(self, name: str) -> LockHolder | None: ...
    def break_lock(self, name: str) -> LockHolder | None: ...


def _atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself must survive a crash too
    finally:
        os.close(directory)


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
        except OSError as exc:
            raise StateError(f"cannot read {path}: {exc.strerror}") from None

    def read(self, name: str) -> RolloutRecord | None:
        """The current (or last) rollout of `name`."""
        text = self._read_text(self._path(name, ".json"))
        return RolloutRecord.model_validate_json(text) if text else None

    def write(self, record: RolloutRecord) -> None:
        """Replace the rollout's document atomically."""
        _atomic_write(self._path(record.plan, ".json"), record.model_dump_json(indent=2))

    def read_requests(self, name: str) -> Requests:
        """Requests made by other commands to the running rollout."""
        text = self._read_text(self._path(name, ".requests.json"))
        return Requests.model_validate_json(text) if text else Requests()

    def write_requests(self, name: str, requests: Requests) -> None:
        _atomic_write(self._path(name, ".requests.json"), requests.model_dump_json(indent=2))

    def append_history(self, record: RolloutRecord) -> None:
        """Add a finished rollout to the name's history."""
        path = self._path(record.plan, ".history.jsonl")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(record.model_dump_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        path.chmod(0o600)

    def history(self, name: str) -> list[RolloutRecord]:
        """Every finished rollout of `name`, oldest first."""
        text = self._read_text(self._path(name, ".history.jsonl")) or ""
        return [RolloutRecord.model_validate_json(line) for line in text.splitlines() if line]

    # -- the lock --------------------------------------------------------------------------------

    def acquire_lock(self, name: str, holder: LockHolder) -> None:
        """Take the lock, or raise LockHeldError naming its holder."""
        path = self._path(name, ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            current = self.lock_holder(name)
            if current is None:  # released between our two looks
                return self.acquire_lock(name, holder)
            raise LockHeldError(current, dead=holder_is_dead(current)) from None
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(holder.model_dump_json())
            handle.flush()
            os.fsync(handle.fileno())
        return None

    def refresh_lock(self, name: str, holder: LockHolder) -> None:
        """Show the holder is alive (local locks are judged by pid; kept for the record)."""
        current = self.lock_holder(name)
        if current is not None and current.rollout_id == holder.rollout_id:
            _atomic_write(self._path(name, ".lock"), holder.model_dump_json())

    def release_lock(self, name: str, holder: LockHolder) -> None:
        """Give the lock back, if it is still ours."""
        current = self.lock_holder(name)
        if current is not None and current.rollout_id == holder.rollout_id:
            with contextlib.suppress(FileNotFoundError):
                self._path(name, ".lock").unlink()

    def lock_holder(self, name: str) -> LockHolder | None:
        text = self._read_text(self._path(name, ".lock"))
        if not text:
            return None
        try:
            return LockHolder.model_validate_json(text)
        except ValueError:
            return LockHolder(user="?", host="?", pid=0, rollout_id="unreadable lock file")

    def break_lock(self, name: str) -> LockHolder | None:
        """Remove the lock whoever holds it; return who did."""
        holder = self.lock_holder(name)
        with contextlib.suppress(FileNotFoundError):
            self._path(name, ".lock").unlink()
        return holder
