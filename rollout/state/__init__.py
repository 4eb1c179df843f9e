"""What rollout did, kept durably so a killed process can always be resumed or rolled back."""
