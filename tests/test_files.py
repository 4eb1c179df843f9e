"""Files written whole; a link keeps pointing where it did, a file keeps its mode."""

from __future__ import annotations

import os
from pathlib import Path

from rollout.files import write_if_changed


def test_an_unchanged_file_is_left_alone_and_a_changed_one_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "site.conf"
    assert write_if_changed(path, "a\n")
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o600)
    os.utime(path, (1, 1))

    assert not write_if_changed(path, "a\n")
    assert path.stat().st_mtime == 1
    assert write_if_changed(path, b"caf\xe9\n")  # bytes as they are, whatever the encoding
    assert path.read_bytes() == b"caf\xe9\n"
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_symbolic_link_keeps_pointing_at_the_file_it_names(tmp_path: Path) -> None:
    (tmp_path / "available").mkdir()
    real = tmp_path / "available" / "site.conf"
    real.write_text("old\n")
    link = tmp_path / "enabled.conf"
    link.symlink_to(real)

    assert write_if_changed(link, "new\n")

    assert link.is_symlink() and real.read_text() == "new\n"
