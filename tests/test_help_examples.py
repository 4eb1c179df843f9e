"""Every command's --help ends with exactly one example, and that example parses."""

from __future__ import annotations

import shlex

import click
import pytest

from rollout.cli import main
from tests.support import run_cli


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command a user can ask --help of, the groups included; hidden ones left out."""
    paths = [prefix]
    for name, command in sorted(group.commands.items()):
        if command.hidden:
            continue
        if isinstance(command, click.Group):
            paths += command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


def example_of(path: tuple[str, ...]) -> str:
    """The command line of the one example `rollout PATH --help` ends with."""
    result = run_cli([*path, "--help"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    blocks = [i for i, line in enumerate(lines) if line.strip().startswith("Example")]
    assert len(blocks) == 1, f"rollout {' '.join(path)} --help: {len(blocks)} examples"
    rest = lines[blocks[0] + 1 :]
    assert len(rest) == 1, f"rollout {' '.join(path)} --help: the example is not the end"
    return rest[0].strip()


def parse(words: list[str]) -> tuple[str, ...]:
    """Parse `rollout WORDS` as click would (a usage error raises); the command's path."""
    command: click.Command = main
    context = click.Context(main, info_name="rollout")
    path: list[str] = []
    while isinstance(command, click.Group) and words:
        found = command.get_command(context, words[0])
        assert found is not None, f"no command {words[0]!r}"
        path.append(words.pop(0))
        command = found
    command.make_context(" ".join(["rollout", *path]), words, parent=context)
    return tuple(path)


@pytest.mark.parametrize("path", command_paths(main), ids=lambda p: " ".join(p) or "rollout")
def test_help_ends_with_one_example_that_parses(path: tuple[str, ...]) -> None:
    line = example_of(path)

    words = shlex.split(line)
    if ">" in words:  # a redirection is the shell's, not rollout's
        words = words[: words.index(">")]
    assert words[0] == "rollout"
    parsed = parse(words[1:])
    # A command's example runs that command (a group's runs one of its own).
    assert parsed[: len(path)] == path, line


def test_the_promote_example_is_the_command_a_paused_rollout_prints() -> None:
    line = example_of(("promote",))
    assert line == "rollout promote -f rollout.yaml --region us-east-1 --target api"
