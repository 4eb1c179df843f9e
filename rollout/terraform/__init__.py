"""Terraform, run per region: the adapter over the binary and its machine-readable output."""
