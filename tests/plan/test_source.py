"""Reading YAML into data with the location of every key."""

from __future__ import annotations

import pytest

from rollout.plan import source
from rollout.plan.errors import Location, PlanInvalidError
from rollout.plan.source import MAX_EXPANDED_NODES, parse_source


def test_every_key_and_item_is_located() -> None:
    source = parse_source("a: 1\nb:\n  - x: 2\n  - y\n", "plan.yaml")
    assert source.locate(("b", 0, "x")) == Location("plan.yaml", 3, 5)
    assert source.locate(("b", 1)) == Location("plan.yaml", 4, 5)
    assert source.locate(("b", 0, "missing")) == Location("plan.yaml", 3, 5)


def test_date_like_values_stay_text() -> None:
    assert parse_source("when: 2026-11-26\n", "p.yaml").data == {"when": "2026-11-26"}


def test_keys_keep_their_source_text() -> None:
    assert parse_source("on: 1\n10: x\n", "p.yaml").data == {"on": 1, "10": "x"}


def test_merge_keys_are_expanded() -> None:
    text = "base: &b {alias: live}\ntarget:\n  <<: *b\n  function: f\n"
    assert parse_source(text, "p.yaml").data["target"] == {"alias": "live", "function": "f"}


def test_small_aliases_are_fine() -> None:
    text = "hooks: &h {command: x}\nother: *h\n"
    assert parse_source(text, "p.yaml").data["other"] == {"command": "x"}


def test_recursive_alias_is_refused_not_looped_forever() -> None:
    with pytest.raises(PlanInvalidError, match=r"nested deeper|alias bomb"):
        parse_source("a: &a [*a]\n", "p.yaml")


def test_alias_expansion_is_bounded() -> None:
    levels = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 6)]
    with pytest.raises(PlanInvalidError) as raised:
        parse_source("\n".join(levels), "p.yaml")
    assert f"more than {MAX_EXPANDED_NODES} values" in str(raised.value)


def test_only_values_built_again_through_aliases_count_against_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(source, "MAX_EXPANDED_NODES", 8)
    plain = "plain: [" + ", ".join(["x"] * 50) + "]\n"
    # The alias rebuilds the list and its four items: five values, under the limit of eight.
    assert parse_source(plain + "a: &a [1, 2, 3, 4]\nb: *a\n", "p.yaml").data["b"] == [1, 2, 3, 4]
    with pytest.raises(PlanInvalidError, match="alias bomb"):
        parse_source(plain + "a: &a [1, 2, 3, 4]\nb: [*a, *a]\n", "p.yaml")


def test_scalars_keep_their_yaml_types_and_quoted_ones_stay_text() -> None:
    text = 'a: 1\nb: true\nc: null\nd: 1.5\ne: x\nf: "1"\ng: ~\nh: 0x10\n'
    assert parse_source(text, "p.yaml").data == {
        "a": 1,
        "b": True,
        "c": None,
        "d": 1.5,
        "e": "x",
        "f": "1",
        "g": None,
        "h": 16,
    }
