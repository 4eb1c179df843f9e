"""rollout: incremental, alarm-guarded releases of AWS Lambda and Step Functions aliases.

Kept import-free so that `rollout --help` starts fast.
"""

__version__ = "0.1.0"
