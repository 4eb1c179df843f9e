"""Bad mapping files: each refused with located one-line errors, exit 1, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plan.test_bad_plans import expected_errors
from tests.support import run_cli

BAD_FILES = sorted((Path(__file__).resolve().parent / "bad").glob("*.yaml"))


def test_the_corpus_covers_injection_duplicates_urls_verbs_and_missing_fields() -> None:
    assert len(BAD_FILES) >= 20
    for path in BAD_FILES:
        assert expected_errors(path), f"{path.name} marks no expected error"


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_bad_mapping_is_refused_with_a_located_message_and_nothing_written(
    path: Path, tmp_path: Path
) -> None:
    output = tmp_path / "nginx.conf"

    result = run_cli(["nginx", "render", str(path), "-o", str(output)])

    assert result.exit_code == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert not output.exists()
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors and all(line.startswith(f"error: {path}:") for line in errors), result.stderr
    for number, text in expected_errors(path):
        located = [line for line in errors if line.startswith(f"error: {path}:{number}:")]
        assert any(text in line for line in located), (
            f"expected {text!r} on line {number}, got:\n{result.stderr}"
        )
    assert result.stderr.splitlines()[-1].endswith("in the mappings")
