"""The proxy's options (listen address, VPC endpoint, resolver, certificates), checked."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from rollout.nginx.mapping import HOST_LABEL
from rollout.nginx.render import ProxyOptions

_SAFE_PATH = re.compile(r"[A-Za-z0-9._/~+@=,-]+")
_HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9.-]+)(?::(?P<port>\d{1,5}))?$")
_LISTEN = re.compile(r"^(?:(?P<addr>[0-9.]+|\[[0-9a-fA-F:]+\]):)?(?P<port>\d{1,5})$")


class NginxUsageError(ValueError):
    """An option with a value nginx cannot take."""


def proxy_options(
    *,
    listen: str,
    vpc_endpoint: str | None,
    resolver: str | None,
    ssl_cert: Path | None,
    ssl_key: Path | None,
    upstream_ca: Path | None,
) -> ProxyOptions:
    """The command's options, checked; NginxUsageError names the one that is wrong."""
    if (ssl_cert is None) != (ssl_key is None):
        raise NginxUsageError("--ssl-cert and --ssl-key go together")
    return ProxyOptions(
        listen=_listen(listen),
        vpc_endpoint=_endpoint(vpc_endpoint) if vpc_endpoint is not None else None,
        resolver=_resolver(resolver) if resolver is not None else None,
        ssl_certificate=_file(ssl_cert, "--ssl-cert"),
        ssl_certificate_key=_file(ssl_key, "--ssl-key"),
        upstream_ca=_file(upstream_ca, "--upstream-ca"),
    )


def _listen(value: str) -> str:
    found = _LISTEN.fullmatch(value)
    problem = found is None or not _port(found["port"])
    if found is not None and found["addr"]:
        problem = problem or _address(found["addr"].strip("[]")) is None
    if problem:
        raise NginxUsageError(f"--listen {value!r}: expected PORT or ADDR:PORT (port 1-65535)")
    return value


def _endpoint(value: str) -> str:
    found = _HOST_PORT.fullmatch(value)
    labels = found["host"].lower().split(".") if found else []
    if (
        found is None
        or not all(HOST_LABEL.fullmatch(label) for label in labels)
        or (found["port"] and not _port(found["port"]))
    ):
        raise NginxUsageError(f"--vpc-endpoint {value!r}: expected HOST or HOST:PORT")
    return value


def _resolver(value: str) -> str:
    address = _address(value)
    if address is None:
        raise NginxUsageError(f"--resolver {value!r}: expected an IP address")
    return f"[{address}]" if address.version == 6 else str(address)


def _file(path: Path | None, option: str) -> Path | None:
    if path is None:
        return None
    resolved = path.resolve()
    if not _SAFE_PATH.fullmatch(str(resolved)):
        raise NginxUsageError(
            f"{option} {str(path)!r}: a file name nginx can read as one word "
            "(no spaces, quotes, ';', braces, '$' or '#')"
        )
    return resolved


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _port(text: str) -> bool:
    return 1 <= int(text) <= 65535
