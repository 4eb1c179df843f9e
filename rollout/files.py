"""Files written whole: a reader (or a crash) sees the old content or the new, never half."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def copy_beside(path: Path, text: str | bytes, mode: int = 0o600) -> Path:
    """`text` in a new file beside `path` (private unless `mode` says), flushed; its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)


def sync_folder(folder: Path) -> None:
    """Make a rename or link in `folder` survive a crash too."""
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def atomic_write(path: Path, text: str | bytes, mode: int = 0o600) -> None:
    """Replace `path` with `text` in one rename; OSError when it cannot."""
    temporary = copy_beside(path, text, mode)
    try:
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def write_if_changed(path: Path, text: str | bytes, mode: int = 0o644) -> bool:
    """Write `path` atomically unless it already holds `text` (its time stays then: nothing
    watching it reloads for nothing); whether it was written. A symbolic link keeps pointing
    where it did (the file it names is replaced), and an existing file keeps its mode."""
    target = path.resolve() if path.is_symlink() else path
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        if target.read_bytes() == data:
            return False
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        pass
    atomic_write(target, data, mode)
    return True
