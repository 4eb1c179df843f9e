"""Lets `python -m rollout` behave exactly like the `rollout` command."""

from rollout.entry import main

main()
