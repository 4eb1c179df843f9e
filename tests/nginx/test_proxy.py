"""The generated servers run in the real nginx on loopback ports, in front of a local HTTPS
echo server standing in for the execute-api VPC endpoint."""

from __future__ import annotations

import datetime
import http.client
import http.server
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rollout.nginx.check import nginx_binary
from rollout.nginx.mapping import DomainMapping, check_entries, load_mappings
from rollout.nginx.render import ProxyOptions, render_full
from rollout.plan.source import SourceDocument
from tests.nginx.test_render import fixture


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert, key_file = folder / "echo.pem", folder / "echo.key"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key_file


class _Echo(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = json.dumps(
            {"method": self.command, "path": self.path, "headers": dict(self.headers)}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo(tmp_path: Path) -> Iterator[int]:
    """An HTTPS server on loopback that answers every request with what it received."""
    cert, key = self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()


def start_nginx(
    prefix: Path,
    options: ProxyOptions,
    name: str = "stage-and-path",
    mappings: tuple[DomainMapping, ...] | None = None,
) -> subprocess.Popen[bytes]:
    mappings = mappings or load_mappings(fixture(name)).mappings
    (prefix / "temp").mkdir()
    config = prefix / "nginx.conf"
    config.write_text(render_full(mappings, options, temp_dir=prefix / "temp").text)
    process = subprocess.Popen(
        [nginx_binary(), "-p", f"{prefix}/", "-c", str(config), "-e", "stderr",
         "-g", f"daemon off; master_process off; pid {prefix}/nginx.pid;"],
        stderr=subprocess.PIPE,
    )  # fmt: skip
    port = int(options.listen.rsplit(":", 1)[1])
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "nginx did not start"
        time.sleep(0.05)


def ask(port: int, method: str, host: str, path: str, **headers: str) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, headers={"Host": host, **headers})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, json.loads(body) if response.status == 200 else {}


@pytest.fixture(params=["static", "resolver"])
def proxy(request: pytest.FixtureRequest, echo: int, tmp_path: Path) -> Iterator[int]:
    """nginx running the generated servers; with `--resolver`, upstreams looked up at run time."""
    port = free_port()
    options = ProxyOptions(
        listen=f"127.0.0.1:{port}",
        vpc_endpoint=f"127.0.0.1:{echo}",
        resolver="127.0.0.1" if request.param == "resolver" else None,
    )
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    process = start_nginx(prefix, options)
    yield port
    process.terminate()
    process.wait(10)


def test_paths_with_stage_and_path_and_query_strings_reach_the_api(proxy: int) -> None:
    status, seen = ask(proxy, "GET", "api2.private.example2.com", "/pets/1?x=1&y=two")

    assert status == 200
    assert seen["path"] == "/dev/path1/path2/pets/1?x=1&y=two"


def test_the_api_is_picked_by_header_and_authorization_passes_through(proxy: int) -> None:
    status, seen = ask(
        proxy, "GET", "api1.internal.private.example.com", "/pets", Authorization="Bearer t0k"
    )

    assert status == 200
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert seen["path"] == "/dev/pets"
    assert headers["x-apigw-api-id"] == "api-id1"
    assert headers["authorization"] == "Bearer t0k"
    assert headers["referer"] == "api1.internal.private.example.com"
    assert headers["x-upstream-domain"] == "api1.internal.private.example.com"


def test_verbs_are_enforced_at_the_proxy(proxy: int) -> None:
    domain = "api1.internal.private.example.com"  # VERBS: [GET, POST]
    assert ask(proxy, "POST", domain, "/pets")[0] == 200
    assert ask(proxy, "DELETE", domain, "/pets/1")[0] == 403
    assert ask(proxy, "DELETE", "api2.private.example2.com", "/pets/1")[0] == 200  # no VERBS


def test_an_unknown_host_gets_404(proxy: int) -> None:
    assert ask(proxy, "GET", "somebody-else.example.com", "/pets")[0] == 404


def test_the_other_shared_fixture_routes_through_nginx_too(echo: int, tmp_path: Path) -> None:
    port = free_port()
    options = ProxyOptions(listen=f"127.0.0.1:{port}", vpc_endpoint=f"127.0.0.1:{echo}")
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    process = start_nginx(prefix, options, name="sample")
    try:
        status, seen = ask(port, "GET", "api2.private.example2.com", "/pets?x=1")
        assert status == 200 and seen["path"] == "/dev/pets?x=1"
        headers = {k.lower(): v for k, v in seen["headers"].items()}
        assert headers["x-apigw-api-id"] == "apiid2"
        assert ask(port, "PUT", "api1.internal.private.example.com", "/pets")[0] == 403
    finally:
        process.terminate()
        process.wait(10)


def test_a_newline_in_the_path_never_escapes_the_mapped_base_path(proxy: int) -> None:
    status, seen = ask(proxy, "GET", "api2.private.example2.com", "/prod/secret%0A/x")

    # Mapped under the base path, or refused; never passed on as it came.
    assert status == 400 or seen["path"].startswith("/dev/path1/path2/"), seen


def test_a_domain_mapped_only_under_a_prefix_answers_404_elsewhere(
    echo: int, tmp_path: Path
) -> None:
    entries = [
        {"domain": "b.example.com", "path": "/v2/",
         "private_api_url": "https://abc123.execute-api.us-east-1.amazonaws.com/dev"},
    ]  # fmt: skip
    mappings = check_entries(SourceDocument("plan.yaml", {}, {}), ("nginx", "mappings"), entries)
    port = free_port()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    options = ProxyOptions(listen=f"127.0.0.1:{port}", vpc_endpoint=f"127.0.0.1:{echo}")
    process = start_nginx(prefix, options, mappings=mappings)
    try:
        assert ask(port, "GET", "b.example.com", "/")[0] == 404  # never nginx's own web root
        status, seen = ask(port, "GET", "b.example.com", "/v2/pets?x=1")
        assert status == 200 and seen["path"] == "/dev/pets?x=1"
    finally:
        process.terminate()
        process.wait(10)


def test_with_an_upstream_ca_only_an_endpoint_it_vouches_for_is_reached(
    echo: int, tmp_path: Path
) -> None:
    stranger, _key = self_signed(tmp_path / "other")  # a CA that never signed the echo server
    for bundle, expected in ((tmp_path / "echo.pem", 200), (stranger, 502)):
        port = free_port()
        prefix = tmp_path / f"nginx-{expected}"
        prefix.mkdir()
        options = ProxyOptions(
            listen=f"127.0.0.1:{port}", vpc_endpoint=f"localhost:{echo}", upstream_ca=bundle
        )
        process = start_nginx(prefix, options)
        try:
            assert ask(port, "GET", "api2.private.example2.com", "/pets")[0] == expected
        finally:
            process.terminate()
            process.wait(10)
