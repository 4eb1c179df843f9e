"""`rollout history` offline, from history files as older and newer rollouts wrote them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import run_cli

PLAN = "version: 1\nname: orders\nregions: [us-east-1]\ntargets:\n  - name: api\n" + (
    "    lambda: {function: api, alias: live}\n    strategy: AllAtOnce\n"
)


def record(status: str, finished: str, **more: object) -> str:
    target = {"status": "done", "old_version": "7", "new_version": "8"}
    return json.dumps(
        {
            "id": "r1",
            "plan": "orders",
            "plan_hash": "h",
            "status": status,
            "started_at": "2026-11-26T12:00:00Z",
            "finished_at": finished,
            "regions": {"us-east-1": {"status": status, "targets": {"api": target}}},
            **more,
        }
    )


def test_a_rollout_rolled_back_later_is_one_row_with_its_final_outcome(tmp_path: Path) -> None:
    # Written before rollout kept who started a rollout: no started_by, no bake_ends_at.
    (tmp_path / "rollout.yaml").write_text(PLAN)
    (tmp_path / ".rollout").mkdir()
    (tmp_path / ".rollout" / "orders.history.jsonl").write_text(
        record("succeeded", "2026-11-26T12:05:00Z")
        + "\n"
        + record("rolled_back", "2026-11-26T13:00:30Z")
        + "\n"
    )

    text = run_cli(["history", "-f", str(tmp_path / "rollout.yaml")])
    as_json = json.loads(
        run_cli(["history", "-f", str(tmp_path / "rollout.yaml"), "--output", "json"]).stdout
    )

    assert text.exit_code == 0
    _header, row = text.stdout.splitlines()
    assert row.split() == [
        "2026-11-26", "12:00:00", "r1", "rolled_back", "1h30s", "api", "7", "→", "8", "?",
        "us-east-1:", "rolled_back",
    ]  # fmt: skip
    (only,) = as_json["rollouts"]
    assert only["outcome"] == "rolled_back" and only["duration_seconds"] == 3630.0
    assert only["started_by"] is None and as_json["schema_version"] == 1
