"""The rollout engine: publishes, shifts, watches and rolls back, through narrow ports."""
