"""The output environment: colour rules, CI detection and which view a run gets."""

from __future__ import annotations

import io
import os
import pty

import pytest

from rollout.reporters.environment import color_wanted, detect_ci, detect_environment


@pytest.mark.parametrize(
    ("environ", "no_color", "terminal", "colour"),
    [
        ({}, False, True, True),  # default: colour iff a terminal
        ({}, False, False, False),
        ({}, True, True, False),  # --no-color
        ({"NO_COLOR": "1"}, False, True, False),
        ({"NO_COLOR": ""}, False, True, True),  # only a non-empty NO_COLOR counts
        ({"TERM": "dumb"}, False, True, False),
        ({"FORCE_COLOR": "1"}, False, False, True),  # forced into a pipe
        ({"FORCE_COLOR": "1", "TERM": "dumb"}, False, False, True),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, True, False),  # opting out wins
        ({"FORCE_COLOR": "1"}, True, True, False),
    ],
)
def test_colour_rules(
    environ: dict[str, str], no_color: bool, terminal: bool, colour: bool
) -> None:
    assert color_wanted(environ, no_color=no_color, terminal=terminal) is colour


@pytest.mark.parametrize(
    ("environ", "ci"),
    [
        ({"GITHUB_ACTIONS": "true", "CI": "true"}, "github"),
        ({"JENKINS_URL": "https://ci.example/"}, "jenkins"),
        ({"BUILD_URL": "https://ci.example/job/1/"}, "jenkins"),
        ({"CI": "true"}, "ci"),
        ({"CI": "false"}, None),
        ({}, None),
    ],
)
def test_ci_detection(environ: dict[str, str], ci: str | None) -> None:
    assert detect_ci(environ) == ci


def test_a_pipe_gets_plain_lines_without_colour_and_a_terminal_the_live_view() -> None:
    piped = detect_environment({}, stdout=io.StringIO(), stderr=io.StringIO())
    assert (piped.stdout_is_terminal, piped.color, piped.live_view) == (False, False, False)
    assert piped.paint("x", "red") == "x"

    leader, follower = pty.openpty()
    with os.fdopen(follower, "w") as terminal:
        plain = {"TERM": "xterm"}
        assert detect_environment(plain, stdout=terminal, stderr=terminal).live_view
        dumb = detect_environment({"TERM": "dumb"}, stdout=terminal, stderr=terminal)
        assert not dumb.live_view and not dumb.color
        in_ci = detect_environment({"CI": "true"}, stdout=terminal, stderr=terminal)
        assert not in_ci.live_view and in_ci.color  # a CI log that claims to be a terminal
    os.close(leader)

    forced = detect_environment({"FORCE_COLOR": "1"}, stdout=io.StringIO())
    assert forced.paint("x", "red") == "\x1b[31mx\x1b[0m" and not forced.live_view


def test_writes_to_a_closed_stream_are_said_once_and_never_raise() -> None:
    out, err = io.StringIO(), io.StringIO()
    environment = detect_environment({}, stdout=out, stderr=err)
    out.close()

    environment.write("first")
    environment.write("second")

    assert err.getvalue().count("output stopped") == 1
