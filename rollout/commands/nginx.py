"""`rollout nginx render`: a mapping file as an nginx configuration, checked and written whole."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from rollout.commands.context import CommandResult, said
from rollout.exitcodes import ExitCode
from rollout.files import write_if_changed
from rollout.nginx.check import check_config
from rollout.nginx.mapping import load_mappings
from rollout.nginx.render import ProxyOptions, render_full, render_servers

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


def render_command(
    mappings_file: Path,
    options: ProxyOptions,
    *,
    output: Path | None,
    check: bool,
    form: str,
) -> tuple[CommandResult, str | None]:
    """The rendered text (None when refused), and what to say."""
    loaded = load_mappings(mappings_file)
    source = str(mappings_file)
    render = render_full if form == "full" else render_servers
    text = render(loaded.mappings, options, source=mappings_file.name).text
    warnings = [f"warning: {warning}" for warning in loaded.warnings]
    if check:
        checked = check_config(loaded.mappings, options, source=source)
        if not checked.passed:
            lines = [*warnings, *(f"error: {p}" for p in checked.problems), "nothing written"]
            return said(ExitCode.ERROR, *lines), None
    if output is None:
        return CommandResult(ExitCode.OK, tuple(warnings)), text
    changed = write_if_changed(output, text)
    verdict = "written" if changed else "unchanged"
    checked_note = ", nginx -t passed" if check else ""
    summary = f"{output}: {len(loaded.mappings)} domain(s), {verdict}{checked_note}"
    return CommandResult(ExitCode.OK, (*warnings, summary)), None
