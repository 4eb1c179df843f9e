"""Runs `rollout ARGS...` with every AWS call it makes appended, as a JSON line, to the file
named by ROLLOUT_TEST_CALLS: (service, operation, region, parameters), written as each call
starts, so a process killed mid-rollout leaves what it did."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import botocore.session


def record_calls(path: str) -> None:
    """Make every botocore client created from now on append its calls to `path`."""
    create = botocore.session.Session.create_client

    def create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = create(self, service_name, *args, **kwargs)
        region = client.meta.region_name

        def before(params: dict[str, Any], model: Any, **_: Any) -> None:
            line = {
                "service": service_name,
                "operation": model.name,
                "region": region,
                "params": params,
            }
            with Path(path).open("a", encoding="utf-8") as calls:
                calls.write(json.dumps(line, default=lambda _binary: "<binary>") + "\n")

        client.meta.events.register("before-parameter-build", before)
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]


if __name__ == "__main__":
    # Run as a script, this folder comes first on the path, where tests/strategies would hide
    # the real `strategies` package.
    sys.path.remove(str(Path(__file__).resolve().parent))
    record_calls(os.environ["ROLLOUT_TEST_CALLS"])
    from rollout.entry import main

    sys.argv = ["rollout", *sys.argv[1:]]
    main()
