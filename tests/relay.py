"""The HTTP relay both local AWS proxies build on (tests' fault proxy, bench's limits proxy):
read a request, answer it or forward it to moto, and never let a client that left stop it."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import urllib.parse

_NOT_RELAYED = ("transfer-encoding", "connection", "content-length")


class RelayHandler(http.server.BaseHTTPRequestHandler):
    """Subclasses set `upstream` and answer each request in `handle_call(body)`."""

    upstream: urllib.parse.SplitResult
    protocol_version = "HTTP/1.1"
    # The answer's headers and body go out as two writes: with Nagle's algorithm the
    # body then waits for the client's delayed ACK, 40 ms a request that AWS never adds.
    disable_nagle_algorithm = True

    def log_message(self, *args: object) -> None:
        pass

    def handle_call(self, body: bytes) -> None:
        raise NotImplementedError

    def _relay(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        # A client that gave up waiting (a stall intends it) has closed its end.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.handle_call(self.rfile.read(length) if length else b"")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

    def forward(self, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        """Send the request on to the upstream; its (status, body, headers)."""
        target = self.upstream
        connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        headers["Host"] = target.netloc
        connection.request(self.command, self.path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        kept = {k: v for k, v in response.getheaders() if k.lower() not in _NOT_RELAYED}
        return response.status, payload, kept

    def answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
