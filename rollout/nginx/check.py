"""`nginx -t` on a rendered configuration, in a private prefix: no system file read or written.

nginx's complaint about a line is mapped back to the mapping entry that produced
it, so the message names the mapping file's line, not a temporary file's.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rollout.nginx.mapping import DomainMapping
from rollout.nginx.render import ProxyOptions, render_full
from rollout.processes import run_process

_WHERE = re.compile(r"^(?P<message>.*?) in (?P<file>\S+):(?P<line>\d+)$")
# `2026/11/27 04:57:10 [emerg] 20224#20224: ` or `nginx: [emerg] `: only the level is kept.
_PREFIX = re.compile(
    r"^(?:nginx: |\d{4}/\d\d/\d\d \d\d:\d\d:\d\d )?(?P<level>\[\w+\])(?: \d+#\d+:)? "
)
_SAFE_PATH = re.compile(r"[A-Za-z0-9._/-]+")
_SEARCHED = ("/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin")


class NginxMissingError(RuntimeError):
    """No nginx binary to check with."""


@dataclass(frozen=True)
class CheckResult:
    """Whether nginx accepted the configuration, and its complaints, located."""

    passed: bool
    problems: tuple[str, ...]


def nginx_binary() -> str:
    """nginx on PATH, or where distributions install it (often outside a user's PATH)."""
    found = shutil.which("nginx") or shutil.which("nginx", path=os.pathsep.join(_SEARCHED))
    if found is None:
        raise NginxMissingError("nginx is not installed (apt-get install nginx-light)")
    return found


def check_config(
    mappings: Sequence[DomainMapping], options: ProxyOptions, *, source: str
) -> CheckResult:
    """Run `nginx -t` on the servers for `mappings`, the way `render` writes them."""
    binary = nginx_binary()
    prefix = Path(tempfile.mkdtemp(prefix="rollout-nginx-check-"))
    if not _SAFE_PATH.fullmatch(str(prefix)):  # a TMPDIR with spaces cannot be written in
        shutil.rmtree(prefix, ignore_errors=True)
        prefix = Path(tempfile.mkdtemp(prefix="rollout-nginx-check-", dir="/tmp"))
    try:
        (prefix / "temp").mkdir()
        # nginx -t opens the listening sockets: a free loopback port lets anyone check
        # (port 80 needs root) without changing what is checked about the rest.
        checked = replace(options, listen=f"127.0.0.1:{_free_port()}")
        rendered = render_full(mappings, checked, temp_dir=prefix / "temp")
        config = prefix / "nginx.conf"
        config.write_text(rendered.text, encoding="utf-8")
        ended = run_process(
            [
                binary,
                "-t",
                "-q",
                "-p",
                f"{prefix}/",
                "-c",
                str(config),
                "-e",
                "stderr",
                "-g",
                f"pid {prefix}/nginx.pid;",
            ],
            cwd=prefix,
            env=os.environ,
            timeout=60,
            cancelled=lambda: False,
            merge_errors=True,
        )
        if ended.returncode == 0:
            return CheckResult(True, ())
        problems = [
            _located(line, config, rendered.origins, source)
            for line in ended.output.splitlines()
            if line.strip() and "test failed" not in line
        ]
        return CheckResult(False, tuple(problems) or ("nginx -t failed with no message",))
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _located(line: str, config: Path, origins: dict[int, DomainMapping], source: str) -> str:
    """`mappings.yaml:3: api1.example.com: nginx -t: [emerg] …` when the line is a mapping's."""
    line = _PREFIX.sub(lambda m: m["level"] + " ", line.strip())
    found = _WHERE.match(line)
    if found is None or Path(found["file"]) != config:
        return f"nginx -t: {line.strip()}"
    mapping = origins.get(int(found["line"]))
    if mapping is None:
        return (
            f"nginx -t: {found['message']} (in the generated configuration's line {found['line']})"
        )
    return f"{source}:{mapping.line}: {mapping.domain}: nginx -t: {found['message']}"
