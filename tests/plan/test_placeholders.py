"""Placeholders inside plan strings and definition files."""

from __future__ import annotations

import pytest

from rollout.plan.placeholders import (
    UnresolvedPlaceholderError,
    find_placeholders,
    render,
    render_known,
)


def test_only_dotted_names_in_braces_are_placeholders() -> None:
    text = '{"StartAt": "A", "Resource": "{targets.api.version_arn}"} {region} { spaced } {}'
    assert [p.name for p in find_placeholders(text)] == ["targets.api.version_arn", "region"]


def test_render_replaces_every_placeholder_and_leaves_json_braces() -> None:
    assert render('{"a": "{region}"}', {"region": "eu-west-1"}) == '{"a": "eu-west-1"}'


def test_render_refuses_a_placeholder_without_value() -> None:
    with pytest.raises(UnresolvedPlaceholderError):
        render("{tf.url}", {"region": "eu-west-1"})


def test_render_known_keeps_what_is_not_known_yet() -> None:
    assert render_known("{tf.fn}-{region}", {"region": "us-east-1"}) == "{tf.fn}-us-east-1"
