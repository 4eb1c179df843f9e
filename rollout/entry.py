"""The `rollout` executable: answers `--help` and `--version` without loading the CLI.

Importing click alone costs several times Python's own start-up, and the
top-level help is read often, so it is served from `help_text`, which a test
keeps identical to what click renders.
"""

from __future__ import annotations

import gc
import sys


def main() -> None:
    """Run the command line."""
    arguments = sys.argv[1:]
    if arguments in (["--help"], ["-h"]):
        from rollout.help_text import TOP_LEVEL_HELP

        sys.stdout.write(TOP_LEVEL_HELP)
        sys.exit(0)
    if arguments == ["--version"]:
        from rollout import __version__

        sys.stdout.write(f"rollout {__version__}\n")
        sys.exit(0)
    from rollout.cli import main as cli_main

    try:
        cli_main(prog_name="rollout")
    finally:
        # The interpreter's last collections would walk every object botocore and pydantic
        # built (0.1-0.2 s after the last line is out); a frozen heap is left to the OS.
        gc.freeze()
