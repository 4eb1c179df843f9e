"""A fault-injecting HTTP proxy on loopback, between the CLI and moto's server.

It forwards every request, but answers a share of them itself with a 429 or
a 500, or holds them past the client's read timeout; the choices come from a
seeded random generator so a failing run can be repeated.
"""

from __future__ import annotations

import http.server
import random
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.relay import RelayHandler


@dataclass
class Faults:
    """How often each fault happens (0 to 1) and what the proxy has done."""

    throttle: float = 0.0
    server_error: float = 0.0
    stall: float = 0.0
    stall_seconds: float = 2.0
    seed: int = 0
    # Set while the tests want the state store gone: S3 and DynamoDB answer 503, others pass.
    store_down: threading.Event = field(default_factory=threading.Event)
    # Set to answer every STS call as AWS does once temporary credentials have expired.
    expired_token: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    _random: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def choose(self) -> str:
        with self._lock:
            roll = self._random.random()
            if roll < self.throttle:
                fault = "throttle"
            elif roll < self.throttle + self.server_error:
                fault = "server_error"
            elif roll < self.throttle + self.server_error + self.stall:
                fault = "stall"
            else:
                fault = "forward"
            self.counts[fault] = self.counts.get(fault, 0) + 1
            return fault


STORE_SERVICES = ("s3", "dynamodb")


def _service(headers: Any) -> str:
    """The AWS service a signed request is for: the credential scope's fourth part."""
    # Authorization: AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ...
    scope = (headers.get("Authorization") or "").split("Credential=", 1)[-1].split(",", 1)[0]
    parts = scope.split("/")
    return parts[3] if len(parts) >= 5 else ""


def _handler(upstream: str, faults: Faults) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(RelayHandler):
        def handle_call(self, body: bytes) -> None:
            if faults.store_down.is_set() and _service(self.headers) in STORE_SERVICES:
                return self._unavailable()
            if faults.expired_token and _service(self.headers) == "sts":
                body = (
                    b"<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code>"
                    b"<Message>The security token included in the request is expired</Message>"
                    b"</Error></ErrorResponse>"
                )
                return self.answer(403, body, {"Content-Type": "text/xml"})
            fault = faults.choose()
            if fault == "throttle":
                return self._throttle()
            if fault == "server_error":
                return self.answer(500, b"", {})
            if fault == "stall":
                time.sleep(faults.stall_seconds)  # the client gives up first; AWS never sees it
                return self.answer(500, b"", {})
            return self.answer(*self.forward(body))

        def _throttle(self) -> None:
            """A throttling answer in the request's own protocol, as AWS would give it."""
            if "X-Amz-Target" in self.headers:  # JSON protocols: Step Functions, DynamoDB
                body = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
                return self.answer(400, body, {"Content-Type": "application/x-amz-json-1.0"})
            if self.path.startswith("/2015-03-31/"):  # Lambda's REST API
                headers = {"x-amzn-ErrorType": "TooManyRequestsException"}
                return self.answer(429, b'{"message": "Rate exceeded"}', headers)
            if "smithy-protocol" in self.headers:  # CloudWatch's CBOR protocol
                return self.answer(503, b"", {"smithy-protocol": "rpc-v2-cbor"})
            if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):  # STS
                body = (
                    b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                    b"<Message>Rate exceeded</Message></Error></ErrorResponse>"
                )
                return self.answer(400, body, {"Content-Type": "text/xml"})
            body = b"<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>"
            return self.answer(503, body, {"Content-Type": "application/xml"})  # S3

        def _unavailable(self) -> None:
            """The state store is gone: 503 in S3's or DynamoDB's own words."""
            if "X-Amz-Target" in self.headers:
                body = b'{"__type": "ServiceUnavailable", "message": "Service unavailable"}'
                return self.answer(503, body, {"Content-Type": "application/x-amz-json-1.0"})
            body = b"<Error><Code>ServiceUnavailable</Code><Message>Gone</Message></Error>"
            return self.answer(503, body, {"Content-Type": "application/xml"})

    Handler.upstream = urllib.parse.urlsplit(upstream)
    return Handler


@contextmanager
def fault_proxy(upstream: str, faults: Faults) -> Iterator[str]:
    """A proxy in front of `upstream` on a free loopback port; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, faults))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
