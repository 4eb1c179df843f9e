"""The domain-mapping file (the AWS sample's format) read into checked, typed mappings.

`APIS:` is a list of `CUSTOM_DOMAIN_URL` (a host name, optionally written with
`https://`), `PRIVATE_API_URL` (`https://<api-id>.execute-api.<region>.amazonaws.com/<stage>[/<path>]`)
and optional `VERBS`. Every value is checked against a strict alphabet, so no
value can break out of the nginx directive it is written into.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollout.plan.errors import KeyPath, Location, PlanError, PlanInvalidError
from rollout.plan.load import read_limited
from rollout.plan.source import SourceDocument, parse_source

# What API Gateway routes (its ANY): a mapping's VERBS are checked against these.
HTTP_VERBS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_TOP_KEYS = ("APIS", "ROUTE53_PUBLIC_DOMAIN")
HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_API_URL = re.compile(
    r"^https://(?P<api_id>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.execute-api\."
    r"(?P<region>[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)\.amazonaws\.com"
    r"/(?P<stage>[A-Za-z0-9_-]+)(?P<path>(?:/[A-Za-z0-9._~-]+)*)/?$"
)
_PLACEHOLDER = re.compile(r"<[^<>]*>|\{[^{}]*\}")


class MappingInvalidError(PlanInvalidError):
    """The mapping file cannot be used; carries every located problem."""

    what = "the mappings"


@dataclass(frozen=True)
class MappingKeys:
    """How a shape of mapping names its fields: the AWS sample's file, or a plan's inline list."""

    domain: str
    url: str
    verbs: str
    path: str | None = None  # a path prefix on the domain (inline only)
    tls: str | None = None  # the domain's certificate and key (inline only)

    @property
    def known(self) -> tuple[str, ...]:
        return tuple(k for k in (self.domain, self.url, self.verbs, self.path, self.tls) if k)


FILE_KEYS = MappingKeys("CUSTOM_DOMAIN_URL", "PRIVATE_API_URL", "VERBS")
INLINE_KEYS = MappingKeys("domain", "private_api_url", "verbs", "path", "tls")
_PATH_PREFIX = re.compile(r"^/(?:[A-Za-z0-9._~-]+/)*$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9._/~+-]+$")


@dataclass(frozen=True)
class DomainMapping:
    """One custom domain (and path prefix) routed to one private API stage (and path)."""

    domain: str
    api_id: str
    region: str
    base_path: str  # "/dev" or "/dev/path1/path2": what the domain's prefix maps to
    verbs: tuple[str, ...]  # empty: every verb
    line: int  # where the entry starts in its file, for messages about it
    prefix: str = "/"  # the requests it takes: those under this path
    tls: tuple[str, str] | None = None  # certificate and key files, to serve it over HTTPS

    @property
    def api_host(self) -> str:
        """The private API's own host name (private DNS), `id.execute-api.region.amazonaws.com`."""
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"


@dataclass(frozen=True)
class MappingFile:
    """The mappings of one file, in domain order, and what was accepted with a warning."""

    file: str
    mappings: tuple[DomainMapping, ...]
    warnings: tuple[str, ...] = ()


def load_mappings(path: Path) -> MappingFile:
    """Read and check a mapping file; MappingInvalidError lists every located problem."""
    try:
        source = parse_source(read_limited(path, "mapping file"), str(path))
    except PlanInvalidError as exc:
        raise MappingInvalidError(exc.errors) from None
    return check_mappings(source)


def check_entries(
    source: SourceDocument, path: KeyPath, entries: Any, keys: MappingKeys = INLINE_KEYS
) -> tuple[DomainMapping, ...]:
    """A list of mappings found at `path` of a document (a plan's inline list)."""
    errors: list[PlanError] = []
    if not isinstance(entries, list) or not entries:
        raise MappingInvalidError([source.error(path, "a non-empty list of mappings")])
    mappings = [
        found
        for index, entry in enumerate(entries)
        if (found := _entry(source, (*path, index), entry, errors, keys)) is not None
    ]
    errors.extend(_duplicates(source, mappings))
    if errors:
        raise MappingInvalidError(errors)
    return tuple(sorted(mappings, key=lambda m: (m.domain, m.prefix)))


def check_mappings(source: SourceDocument) -> MappingFile:
    """The mappings in a parsed document, or every problem with its place."""
    errors: list[PlanError] = []
    warnings: list[str] = []
    data = source.data
    if not isinstance(data, dict):
        raise MappingInvalidError([source.error((), "expected a mapping with an APIS: list")])
    for key in data:
        if key == "ROUTE53_PUBLIC_DOMAIN":
            warnings.append(
                f"{source.locate((key,))}: ROUTE53_PUBLIC_DOMAIN is not used by rollout "
                "(DNS records are yours to manage); ignored"
            )
        elif key not in _TOP_KEYS:
            errors.append(source.error((key,), _unknown(str(key), _TOP_KEYS)))
    entries = data.get("APIS")
    if not isinstance(entries, list) or not entries:
        errors.append(source.error(("APIS",), "APIS must be a non-empty list of mappings"))
        raise MappingInvalidError(errors)
    try:
        mappings = check_entries(source, ("APIS",), entries, FILE_KEYS)
    except MappingInvalidError as exc:
        raise MappingInvalidError([*errors, *exc.errors]) from None
    if errors:
        raise MappingInvalidError(errors)
    return MappingFile(source.file, mappings, tuple(warnings))


def _entry(
    source: SourceDocument,
    path: KeyPath,
    entry: Any,
    errors: list[PlanError],
    keys: MappingKeys,
) -> DomainMapping | None:
    if not isinstance(entry, dict):
        errors.append(source.error(path, f"expected a mapping of {keys.domain} and {keys.url}"))
        return None
    before = len(errors)
    for key in entry:
        if key not in keys.known:
            errors.append(source.error((*path, key), _unknown(str(key), keys.known)))
    for key in (keys.domain, keys.url):
        if key not in entry:
            errors.append(source.error(path, f"{key} is missing"))
    domain = _domain(source, (*path, keys.domain), entry.get(keys.domain), errors)
    api = _api_url(source, (*path, keys.url), entry.get(keys.url), errors)
    verbs = _verbs(source, (*path, keys.verbs), entry.get(keys.verbs), errors)
    prefix = _prefix(source, (*path, keys.path), entry.get(keys.path), errors) if keys.path else "/"
    tls = _tls(source, (*path, keys.tls), entry.get(keys.tls), errors) if keys.tls else None
    if len(errors) > before or domain is None or api is None:
        return None
    api_id, region, base_path = api
    line = source.locate(path).line
    return DomainMapping(domain, api_id, region, base_path, verbs, line, prefix, tls)


def _prefix(source: SourceDocument, path: KeyPath, value: Any, errors: list[PlanError]) -> str:
    if value is None:
        return "/"
    text = value if isinstance(value, str) else ""
    text = text if text.endswith("/") else f"{text}/"
    dots = any(segment in (".", "..") for segment in text.split("/"))
    if dots or not _PATH_PREFIX.fullmatch(text):
        errors.append(
            source.error(
                path,
                f"{value!r}: a path prefix such as /v1/ (no spaces, quotes, `;`, braces or `$`)",
            )
        )
        return "/"
    return text


def _tls(
    source: SourceDocument, path: KeyPath, value: Any, errors: list[PlanError]
) -> tuple[str, str] | None:
    if value is None:
        return None
    files = (value.get("certificate"), value.get("key")) if isinstance(value, dict) else ()
    if len(files) != 2 or not all(isinstance(f, str) and _FILE_NAME.fullmatch(f) for f in files):
        errors.append(source.error(path, "{certificate: FILE, key: FILE}, plain file names"))
        return None
    return str(files[0]), str(files[1])


def _domain(
    source: SourceDocument, path: KeyPath, value: Any, errors: list[PlanError]
) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(source.error(path, "expected a host name"))
        return None
    if _PLACEHOLDER.search(value):
        errors.append(source.error(path, f"{value!r} still holds a placeholder"))
        return None
    if not value.isascii():  # `.lower()` would fold look-alikes (KELVIN SIGN) into ASCII
        errors.append(source.error(path, f"{value!r}: a host name is ASCII (use punycode)"))
        return None
    host = value[len("https://") :] if value.startswith("https://") else value
    host = host.removesuffix("/").lower()
    labels = host.split(".")
    problem = None
    if not host or len(host) > 253:
        problem = "a host name has 1 to 253 characters"
    elif not all(HOST_LABEL.fullmatch(label) for label in labels):
        problem = (
            "a host name is letters, digits and hyphens in dot-separated labels (RFC 1123: "
            "no '_', spaces, quotes or ';')"
        )
    if problem:
        errors.append(source.error(path, f"{value!r}: {problem}"))
        return None
    return host


def _api_url(
    source: SourceDocument, path: KeyPath, value: Any, errors: list[PlanError]
) -> tuple[str, str, str] | None:
    if value is None:
        return None
    if isinstance(value, str) and _PLACEHOLDER.search(value):
        errors.append(source.error(path, f"{value!r} still holds a placeholder"))
        return None
    match = _API_URL.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        errors.append(
            source.error(
                path,
                f"{value!r} is not a private API URL: "
                "https://<api-id>.execute-api.<region>.amazonaws.com/<stage>[/<path>]",
            )
        )
        return None
    if any(segment in (".", "..") for segment in match["path"].split("/")):
        errors.append(source.error(path, f"{value!r}: '.' and '..' leave the mapped path"))
        return None
    base = f"/{match['stage']}{match['path']}"
    return match["api_id"], match["region"], base


def _verbs(
    source: SourceDocument, path: KeyPath, value: Any, errors: list[PlanError]
) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        errors.append(source.error(path, "VERBS is a non-empty list, e.g. [GET, POST]"))
        return ()
    verbs: list[str] = []
    for index, verb in enumerate(value):
        if verb == "ANY":
            return ()
        if not isinstance(verb, str) or verb not in HTTP_VERBS:
            errors.append(
                source.error((*path, index), f"{verb!r} is not one of {', '.join(HTTP_VERBS)}")
            )
        elif verb not in verbs:
            verbs.append(verb)
    return tuple(sorted(verbs))


def _duplicates(source: SourceDocument, mappings: list[DomainMapping]) -> list[PlanError]:
    """nginx only warns about a domain served twice, and one of them silently wins; the
    paths of one domain share one server, so they must agree on its certificate."""
    first: dict[tuple[str, str], DomainMapping] = {}
    served: dict[str, DomainMapping] = {}
    errors = []
    for mapping in mappings:
        where = Location(source.file, mapping.line, 1)
        key = (mapping.domain, mapping.prefix)
        shown = mapping.domain + (mapping.prefix if mapping.prefix != "/" else "")
        if key in first:
            errors.append(
                PlanError(where, (), f"{shown} is mapped twice (first on line {first[key].line})")
            )
            continue
        first[key] = mapping
        other = served.setdefault(mapping.domain, mapping)
        if other.tls != mapping.tls:
            errors.append(
                PlanError(
                    where,
                    (),
                    f"{mapping.domain} has another certificate on line {other.line}: one "
                    "domain, one server, one certificate",
                )
            )
    return errors


def _unknown(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else f" (known: {', '.join(known)})"
    return f"unknown key {key!r}{hint}"
