"""Shared fixtures: plan files, and moto's threaded server on loopback for real-HTTP AWS tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from hypothesis import settings

from rollout.sandbox import emulator

# Speed is measured by benchmarks, never by tests: a loaded machine must not fail a property.
settings.register_profile("rollout", deadline=None)
settings.load_profile("rollout")

FAKE_SETTINGS = {"AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def write_plan(tmp_path: Path) -> Callable[..., Path]:
    """Write plan text to a file in a temporary folder and return its path."""

    def write(text: str, name: str = "rollout.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The sandbox's emulator (moto on a free loopback port) for the whole test session; its URL."""
    for key, value in FAKE_SETTINGS.items():
        os.environ.setdefault(key, value)
    with emulator() as url:
        yield url


@pytest.fixture
def aws_endpoint(moto_server: str) -> Iterator[str]:
    """The moto server's URL, with its state wiped before the test."""
    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    yield moto_server
