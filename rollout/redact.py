"""Masks what looks like a credential in text rollout passes on: hook output and errors.

AWS keys and session tokens, and the secrets a URL can carry: a password before
the host, and query values named like secrets.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"

_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
# Emulators accept stand-ins such as "testing"; masking those would mangle ordinary words,
# and no real AWS credential is this short (a key id alone has 20 characters).
_SHORTEST_CREDENTIAL = 16

# `aws_secret_access_key = …`, `AWS_SESSION_TOKEN=…`, `"SecretAccessKey": "…"`,
# `X-Amz-Security-Token=…`: the value after a credential's name, whatever its shape.
_ASSIGNMENT = re.compile(
    r"""(?P<name>(?:aws[_-]?)?"""
    r"""(?:secret[_-]?access[_-]?key|access[_-]?key[_-]?id|session[_-]?token|security[_-]?token)"""
    r"""["']?[ \t]*[:=][ \t]*["']?)[^\s"',;&}]+""",
    re.IGNORECASE,
)
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
# A URL's `user:password@`, and query values named like secrets (`?token=…`, `&api_key=…`).
_URL_PASSWORD = re.compile(
    r"(?P<scheme>\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+(?=@)", re.IGNORECASE
)
_QUERY_SECRET = re.compile(
    r"(?P<name>[?&](?:[a-z0-9_.-]*(?:token|secret|password|passwd|key|signature|sig|auth)"
    r"[a-z0-9_.-]*)=)[^&#\s]+",
    re.IGNORECASE,
)
# A whole run of base64 characters (padding apart), touching no other such character.
_BASE64_RUN = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40,}(?P<padding>=*)(?![A-Za-z0-9/+])")
_SECRET_KEY_LENGTH = 40
_SHORTEST_SESSION_TOKEN = 100


# Values a run learned are secret (terraform's sensitive outputs): masked in all it writes.
_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
# Shorter values (`true`, `5432`, `live`) would mask ordinary words and numbers everywhere.
SHORTEST_SECRET = 6


def hide(value: str) -> bool:
    """Mask `value` wherever rollout writes text, from now on; False when it is too short to."""
    if len(value) < SHORTEST_SECRET:
        return False
    with _SECRETS_LOCK:
        _SECRETS.add(value)
    return True


def hidden_values() -> list[str]:
    """Every value given to `hide` so far (for CI systems that mask values themselves)."""
    with _SECRETS_LOCK:
        return sorted(_SECRETS)


def mask_secrets(text: str) -> str:
    """`text` with every value given to `hide` masked (longest first, so none shows in part)."""
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def mask_strings(value: Any) -> Any:
    """`value` (a JSON document) with hidden values masked inside its strings only, so that
    the document stays what it was: numbers, booleans and keys untouched."""
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {key: mask_strings(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_strings(item) for item in value]
    return value


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with credentials, and the values of the environment's AWS credentials, masked."""
    environ = os.environ if environ is None else environ
    text = mask_secrets(text)
    for name in _CREDENTIAL_VARIABLES:
        value = environ.get(name, "")
        if len(value) >= _SHORTEST_CREDENTIAL:
            text = text.replace(value, REDACTED)
    text = _ASSIGNMENT.sub(lambda match: match["name"] + REDACTED, text)
    text = _URL_PASSWORD.sub(lambda match: match["scheme"] + REDACTED, text)
    text = _QUERY_SECRET.sub(lambda match: match["name"] + REDACTED, text)
    text = _ACCESS_KEY_ID.sub(REDACTED, text)
    return _BASE64_RUN.sub(_masked_run, text)


def _masked_run(match: re.Match[str]) -> str:
    """A secret access key (exactly 40, unpadded) or a session token (100 or more), masked."""
    run, padding = match[0], match["padding"]
    # Random credentials mix cases (all but 1 in 10^9 keys do); hex digests, numbers and
    # paths written in one case share the alphabet but are not credentials.
    if run in (run.lower(), run.upper()):
        return run
    length = len(run) - len(padding)
    secret_key = length == _SECRET_KEY_LENGTH and not padding
    return REDACTED if secret_key or length >= _SHORTEST_SESSION_TOKEN else run
