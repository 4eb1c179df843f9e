"""CloudWatch alarm states, read in batches: one DescribeAlarms call per 100 names."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from rollout.aws.errors import config_error
from rollout.aws.permissions import ApiCall, Scope, declared

BATCH = 100  # DescribeAlarms takes at most 100 names
# Composite alarms come back only to a DescribeAlarms permission on "*", and rollout watches both
# kinds, so no narrower resource would do.
CALLS = (ApiCall("cloudwatch", "DescribeAlarms", Scope.ANY),)


class AlarmReadError(Exception):
    """CloudWatch could not be read; str() names the region and AWS's message."""


class CloudWatchAlarms:
    """The alarms of one region."""

    # Every read and call of every instance, for benchmarks that count calls per tick.
    total_reads: ClassVar[int] = 0
    total_calls: ClassVar[int] = 0
    _count_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, cloudwatch_client: Any, region: str = "") -> None:
        self.client = declared(cloudwatch_client, CALLS)
        self.region = region or str(
            getattr(getattr(cloudwatch_client, "meta", None), "region_name", "")
        )
        self.calls = 0
        self._reasons: dict[str, str] = {}

    def states(self, names: Sequence[str]) -> Mapping[str, str]:
        """`{name: state}` for the names that exist, metric and composite alarms alike."""
        with self._count_lock:
            CloudWatchAlarms.total_reads += 1
        found: dict[str, str] = {}
        unique = sorted(set(names))
        for start in range(0, len(unique), BATCH):
            found.update(self._batch(unique[start : start + BATCH]))
        return found

    def reason(self, name: str) -> str:
        """The alarm's StateReason at the last read."""
        return self._reasons.get(name, "")

    def _batch(self, names: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        arguments: dict[str, Any] = {
            "AlarmNames": names,
            "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        }
        while True:
            self.calls += 1
            with self._count_lock:
                CloudWatchAlarms.total_calls += 1
            try:
                page = self.client.describe_alarms(**arguments)
            except (ClientError, BotoCoreError) as exc:
                problem = config_error(exc, f"DescribeAlarms in {self.region or 'this region'}")
                if problem is not None:
                    raise problem from exc
                if isinstance(exc, BotoCoreError):
                    raise AlarmReadError(
                        f"DescribeAlarms in {self.region or 'this region'} failed: {exc}"
                    ) from exc
                error = exc.response.get("Error", {})
                raise AlarmReadError(
                    f"DescribeAlarms in {self.region or 'this region'} failed: "
                    f"{error.get('Code', '')}: {error.get('Message') or exc}"
                ) from exc
            # moto ignores a StateValue filter given with AlarmNames: read each alarm's state.
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                found[str(alarm["AlarmName"])] = str(alarm["StateValue"])
                self._reasons[str(alarm["AlarmName"])] = str(alarm.get("StateReason") or "")
            token = page.get("NextToken")
            if not token:
                return found
            arguments["NextToken"] = token
