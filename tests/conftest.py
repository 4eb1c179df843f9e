"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def write_plan(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write plan text to a file in a temporary folder and return its path."""

    def write(text: str, name: str = "rollout.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
