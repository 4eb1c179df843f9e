"""Everything that turns rollout's results and events into output for people and machines."""
