"""The proxy's options (listen address, VPC endpoint, resolver, certificates), checked."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from rollout.nginx.render import ProxyOptions

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
    if not _LISTEN.fullmatch(listen):
        raise NginxUsageError(f"--listen {listen!r}: expected PORT or ADDR:PORT")
    if vpc_endpoint is not None and not _HOST_PORT.fullmatch(vpc_endpoint):
        raise NginxUsageError(f"--vpc-endpoint {vpc_endpoint!r}: expected HOST or HOST:PORT")
    if resolver is not None:
        try:
            ipaddress.ip_address(resolver)
        except ValueError:
            raise NginxUsageError(f"--resolver {resolver!r}: expected an IP address") from None
    if (ssl_cert is None) != (ssl_key is None):
        raise NginxUsageError("--ssl-cert and --ssl-key go together")
    return ProxyOptions(
        listen=listen,
        vpc_endpoint=vpc_endpoint,
        resolver=resolver,
        ssl_certificate=ssl_cert.resolve() if ssl_cert else None,
        ssl_certificate_key=ssl_key.resolve() if ssl_key else None,
        upstream_ca=upstream_ca.resolve() if upstream_ca else None,
    )
