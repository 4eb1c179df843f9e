"""A loopback proxy in front of moto's server that refuses what AWS would refuse at its rate limits.

moto answers as fast as it is asked; real Lambda allows about 15 control-plane
requests a second per region (GetFunction and GetFunctionConfiguration have
their own 100 a second), and Step Functions gives its alias and version APIs
token buckets of their own. The proxy keeps those buckets, answers 429 /
ThrottlingException when one is empty, can make a code update take as long as
real Lambda's, and logs every exchange so the benchmarks read timings from it.
"""

from __future__ import annotations

import http.server
import json
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.relay import RelayHandler

# (refill per second, bucket size). AWS does not publish Lambda's bucket size;
# one second's worth is the cautious reading of "15 requests per second".
LAMBDA_CONTROL_PLANE = (15.0, 15.0)
LAMBDA_GET_FUNCTION = (100.0, 100.0)
# AWS's Step Functions quotas: "bucket size 100, refill rate 1 per second" and so on.
STEPFUNCTIONS_BUCKETS = {
    "CreateStateMachineAlias": (1.0, 100.0),
    "UpdateStateMachineAlias": (1.0, 100.0),
    "PublishStateMachineVersion": (1.0, 100.0),
    "UpdateStateMachine": (1.0, 100.0),
    "DescribeStateMachineAlias": (1.0, 200.0),
}
GET_FUNCTION_APIS = ("GetFunction", "GetFunctionConfiguration")
# Calls Lambda counts elsewhere: invocations have concurrency limits, not this bucket.
NOT_CONTROL_PLANE = ("Invoke", "GetPolicy")
# Lambda refuses these while a code update is in progress.
BLOCKED_WHILE_UPDATING = ("PublishVersion", "UpdateFunctionCode", "UpdateFunctionConfiguration")
ALIAS_WRITES = ("UpdateAlias", "CreateAlias", "UpdateStateMachineAlias", "CreateStateMachineAlias")


@dataclass
class TokenBucket:
    """AWS's token bucket: a request takes a token or is refused; tokens refill at `rate`."""

    rate: float
    size: float
    tokens: float = field(init=False)
    updated: float | None = None

    def __post_init__(self) -> None:
        self.tokens = self.size

    def take(self, now: float) -> bool:
        """Take one token at time `now`; False (throttled) when none is left."""
        if self.updated is not None:
            self.tokens = min(self.size, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass(frozen=True)
class Call:
    """One AWS request as the limits see it."""

    service: str  # the signing name: lambda, states, monitoring, ...
    region: str
    operation: str
    function: str = ""  # Lambda's function name, when the path names one
    qualifier: str = ""


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, on the proxy's monotonic clock."""

    call: Call
    arrived: float
    answered: float
    status: int
    throttled: bool = False
    body: bytes = b""  # kept for alias writes only, to tell the steps apart

    @property
    def ok(self) -> bool:
        """AWS accepted the request."""
        return 200 <= self.status < 300


class Limits:
    """The buckets of every region and the code updates in flight; decides, never does I/O."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        update_latency: float = 0.0,
        lambda_limit: tuple[float, float] = LAMBDA_CONTROL_PLANE,
    ) -> None:
        self.clock = clock
        self.update_latency = update_latency
        self.lambda_limit = lambda_limit
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._updating_until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def bucket_of(self, call: Call) -> tuple[float, float] | None:
        """(rate, size) of the bucket `call` draws on, or None when it is not limited here."""
        if call.service == "lambda" and call.operation not in NOT_CONTROL_PLANE:
            return LAMBDA_GET_FUNCTION if call.operation in GET_FUNCTION_APIS else self.lambda_limit
        if call.service == "states":
            return STEPFUNCTIONS_BUCKETS.get(call.operation)
        return None

    def admit(self, call: Call) -> bool:
        """Take a token for `call`; False when AWS would throttle it."""
        limit = self.bucket_of(call)
        if limit is None:
            return True
        if call.service == "lambda":
            name = "get" if call.operation in GET_FUNCTION_APIS else "control"
        else:
            name = call.operation
        with self._lock:
            bucket = self._buckets.setdefault(
                (call.region, call.service, name), TokenBucket(*limit)
            )
            return bucket.take(self.clock())

    def code_updated(self, call: Call) -> None:
        """Lambda accepted new code for the function: it is InProgress for `update_latency`."""
        if self.update_latency > 0:
            with self._lock:
                key = (call.region, call.function)
                self._updating_until[key] = self.clock() + self.update_latency

    def updating(self, call: Call) -> bool:
        """The function's last code update has not finished yet."""
        with self._lock:
            return self.clock() < self._updating_until.get((call.region, call.function), 0.0)


def describe(method: str, url: str, headers: Any) -> Call:
    """What a signed request asks for: service and region from the credential scope, the API."""
    # Authorization: AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ...
    scope = (headers.get("Authorization") or "").split("Credential=", 1)[-1].split(",", 1)[0]
    parts = scope.split("/")
    service, region = (parts[3], parts[2]) if len(parts) >= 5 else ("", "")
    target = headers.get("X-Amz-Target") or ""
    if target:  # JSON protocols name the API: AWSStepFunctions.UpdateStateMachineAlias
        return Call(service, region, target.rsplit(".", 1)[-1])
    if service == "lambda":
        return _lambda_call(method, url, region)
    return Call(service, region, f"{method} {urllib.parse.urlsplit(url).path}")


def _lambda_call(method: str, url: str, region: str) -> Call:
    """Lambda's REST API: the operation from method and path, the function from the path."""
    split = urllib.parse.urlsplit(url)
    parts = [urllib.parse.unquote(p) for p in split.path.split("/")[2:]]  # after the API date
    qualifier = urllib.parse.parse_qs(split.query).get("Qualifier", [""])[0]
    if len(parts) < 2 or parts[0] != "functions":
        return Call("lambda", region, f"{method} /{'/'.join(parts)}")
    function = parts[1]
    if function.startswith("arn:"):  # arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
        function = function.split(":")[6]
    rest = parts[2:]
    if not rest:
        shape: tuple[str, ...] = (method,)
    elif rest[0] == "aliases" and len(rest) >= 2:
        shape = (method, "aliases", "ALIAS")
    else:
        shape = (method, rest[0])
    operation = LAMBDA_OPERATIONS.get(shape, " ".join(shape))
    return Call("lambda", region, operation, function, qualifier)


LAMBDA_OPERATIONS = {
    ("GET",): "GetFunction",
    ("DELETE",): "DeleteFunction",
    ("GET", "configuration"): "GetFunctionConfiguration",
    ("PUT", "configuration"): "UpdateFunctionConfiguration",
    ("PUT", "code"): "UpdateFunctionCode",
    ("POST", "versions"): "PublishVersion",
    ("GET", "versions"): "ListVersionsByFunction",
    ("POST", "aliases"): "CreateAlias",
    ("GET", "aliases"): "ListAliases",
    ("GET", "aliases", "ALIAS"): "GetAlias",
    ("PUT", "aliases", "ALIAS"): "UpdateAlias",
    ("DELETE", "aliases", "ALIAS"): "DeleteAlias",
    ("POST", "invocations"): "Invoke",
    ("GET", "policy"): "GetPolicy",
}


def throttled_answer(call: Call) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, headers) of AWS's answer to a throttled call, in the service's words."""
    request_id = {"x-amzn-RequestId": str(uuid.uuid4())}
    if call.service == "lambda":
        body = {"Reason": "CallerRateLimitExceeded", "Type": "User", "message": "Rate exceeded"}
        headers = {
            "x-amzn-ErrorType": "TooManyRequestsException",
            "Retry-After": "1",
            "Content-Type": "application/json",
        }
        return 429, json.dumps(body).encode(), {**headers, **request_id}
    # Step Functions speaks awsJson1_0; its common errors list ThrottlingException as a 400.
    body = {"__type": "ThrottlingException", "message": "Rate exceeded"}
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    return 400, json.dumps(body).encode(), {**headers, **request_id}


def conflict_answer(call: Call) -> tuple[int, bytes, dict[str, str]]:
    """Lambda's refusal of a change while the function's code update is in progress."""
    body = {
        "Type": "User",
        "message": "The operation cannot be performed at this time. An update is in progress "
        f"for resource: arn:aws:lambda:{call.region}:123456789012:function:{call.function}",
    }
    headers = {"x-amzn-ErrorType": "ResourceConflictException", "Content-Type": "application/json"}
    return 409, json.dumps(body).encode(), headers


def in_progress(call: Call, payload: bytes) -> bytes:
    """A GetFunction(Configuration) or UpdateFunctionCode answer saying the update still runs."""
    document = json.loads(payload)
    configuration = document.get("Configuration", document)
    configuration["LastUpdateStatus"] = "InProgress"
    configuration.pop("LastUpdateStatusReason", None)
    return json.dumps(document).encode()


@dataclass
class LimitsProxy:
    """The running proxy: its URL, its limits and what it has seen."""

    url: str
    limits: Limits
    exchanges: list[Exchange] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def seen(self) -> list[Exchange]:
        """Every exchange so far, in the order they were answered."""
        with self._lock:
            return list(self.exchanges)

    def throttled(self, since: float = 0.0) -> int:
        """Requests refused for their rate since `since`."""
        return sum(1 for e in self.seen() if e.throttled and e.arrived >= since)


def _handler(upstream: str, proxy: LimitsProxy) -> type[http.server.BaseHTTPRequestHandler]:
    limits = proxy.limits

    class Handler(RelayHandler):
        def handle_call(self, body: bytes) -> None:
            arrived = limits.clock()
            call = describe(self.command, self.path, self.headers)
            kept = body if call.operation in ALIAS_WRITES else b""
            throttled = not limits.admit(call)
            if throttled:
                status, payload, headers = throttled_answer(call)
            elif call.operation in BLOCKED_WHILE_UPDATING and limits.updating(call):
                status, payload, headers = conflict_answer(call)
            else:
                status, payload, headers = self.forward(body)
                payload = self._as_updating(call, status, payload)
            self.answer(status, payload, headers)
            proxy.record(Exchange(call, arrived, limits.clock(), status, throttled, kept))

        def _as_updating(self, call: Call, status: int, payload: bytes) -> bytes:
            if not 200 <= status < 300:
                return payload
            if call.operation == "UpdateFunctionCode":
                limits.code_updated(call)
            elif call.operation not in GET_FUNCTION_APIS or call.qualifier not in ("", "$LATEST"):
                return payload
            return in_progress(call, payload) if limits.updating(call) else payload

    Handler.upstream = urllib.parse.urlsplit(upstream)
    return Handler


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A rollout the crash matrix SIGKILLs drops its kept-alive connection: not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def limits_proxy(upstream: str, limits: Limits | None = None) -> Iterator[LimitsProxy]:
    """The proxy in front of `upstream` on a free loopback port, with fresh buckets."""
    proxy = LimitsProxy("", limits or Limits())
    server = _Server(("127.0.0.1", 0), _handler(upstream, proxy))
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
