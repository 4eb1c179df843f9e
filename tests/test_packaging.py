"""The distribution as pip installs it: its name, the `rollout` command, the version."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import rollout

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def distribution_name() -> str:
    found = re.search(r'^\[project\]\n(?:#.*\n)*name = "([^"]+)"$', PYPROJECT, re.MULTILINE)
    assert found, "pyproject.toml: [project] name"
    return found.group(1)


def test_the_distribution_is_not_the_unrelated_rollout_on_pypi_and_the_readme_says_so() -> None:
    name = distribution_name()
    assert name != "rollout"
    assert f"pipx install {name}" in README and f"pip install {name}" in README


def test_the_installed_distribution_provides_the_rollout_command_at_the_packages_version() -> None:
    name = distribution_name()
    try:
        distribution = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:  # a venv made before the rename
        raise AssertionError(f"{name} is not installed: pip install -e '.[test]'") from None
    assert distribution.version == rollout.__version__
    scripts = {e.name: e.value for e in distribution.entry_points if e.group == "console_scripts"}
    assert scripts == {"rollout": "rollout.entry:main"}
    shown = subprocess.run(
        [sys.executable, "-m", "rollout", "--version"], capture_output=True, text=True, check=True
    )
    assert shown.stdout == f"rollout {rollout.__version__}\n"
