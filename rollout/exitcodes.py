"""The exit codes: a documented contract with CI systems and operators."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What the process tells its caller; see the README's table."""

    OK = 0  # succeeded, or nothing to do
    ERROR = 1  # error before any traffic moved (plan, config, AWS, terraform)
    USAGE = 2  # usage error; with `plan --detailed-exitcode`: changes are pending
    ROLLED_BACK = 3  # failed and rolled back safely
    NEEDS_HUMAN = 4  # rollback failed, drift, lock held
    IN_PROGRESS = 5  # `status` only: a rollout is in progress


CHANGES_PENDING = ExitCode.USAGE
