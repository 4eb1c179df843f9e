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
_ENTRY_KEYS = ("CUSTOM_DOMAIN_URL", "PRIVATE_API_URL", "VERBS")
_TOP_KEYS = ("APIS", "ROUTE53_PUBLIC_DOMAIN")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
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
class DomainMapping:
    """One custom domain routed to one private API stage (and path)."""

    domain: str
    api_id: str
    region: str
    base_path: str  # "/dev" or "/dev/path1/path2": what the domain's "/" maps to
    verbs: tuple[str, ...]  # empty: every verb
    line: int  # where the entry starts in its file, for messages about it

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
        source = parse_source(read_limited(path), str(path))
    except PlanInvalidError as exc:
        raise MappingInvalidError(exc.errors) from None
    return check_mappings(source)


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
    mappings: list[DomainMapping] = []
    for index, entry in enumerate(entries):
        found = _entry(source, ("APIS", index), entry, errors)
        if found is not None:
            mappings.append(found)
    errors.extend(_duplicates(source, mappings))
    if errors:
        raise MappingInvalidError(errors)
    ordered = tuple(sorted(mappings, key=lambda m: m.domain))
    return MappingFile(source.file, ordered, tuple(warnings))


def _entry(
    source: SourceDocument, path: KeyPath, entry: Any, errors: list[PlanError]
) -> DomainMapping | None:
    if not isinstance(entry, dict):
        errors.append(
            source.error(path, "expected a mapping of CUSTOM_DOMAIN_URL, PRIVATE_API_URL")
        )
        return None
    before = len(errors)
    for key in entry:
        if key not in _ENTRY_KEYS:
            errors.append(source.error((*path, key), _unknown(str(key), _ENTRY_KEYS)))
    for key in ("CUSTOM_DOMAIN_URL", "PRIVATE_API_URL"):
        if key not in entry:
            errors.append(source.error(path, f"{key} is missing"))
    domain = _domain(source, (*path, "CUSTOM_DOMAIN_URL"), entry.get("CUSTOM_DOMAIN_URL"), errors)
    api = _api_url(source, (*path, "PRIVATE_API_URL"), entry.get("PRIVATE_API_URL"), errors)
    verbs = _verbs(source, (*path, "VERBS"), entry.get("VERBS"), errors)
    if len(errors) > before or domain is None or api is None:
        return None
    api_id, region, base_path = api
    line = source.locate(path).line
    return DomainMapping(domain, api_id, region, base_path, verbs, line)


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
    host = value[len("https://") :] if value.startswith("https://") else value
    host = host.removesuffix("/").lower()
    labels = host.split(".")
    problem = None
    if not host or len(host) > 253:
        problem = "a host name has 1 to 253 characters"
    elif not all(_LABEL.match(label) for label in labels):
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
    match = _API_URL.match(value) if isinstance(value, str) else None
    if match is None:
        errors.append(
            source.error(
                path,
                f"{value!r} is not a private API URL: "
                "https://<api-id>.execute-api.<region>.amazonaws.com/<stage>[/<path>]",
            )
        )
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
    """nginx only warns about a domain served twice, and one of them silently wins."""
    first: dict[str, DomainMapping] = {}
    errors = []
    for mapping in mappings:
        if mapping.domain in first:
            errors.append(
                PlanError(
                    Location(source.file, mapping.line, 1),
                    (),
                    f"{mapping.domain} is mapped twice "
                    f"(first on line {first[mapping.domain].line})",
                )
            )
        else:
            first[mapping.domain] = mapping
    return errors


def _unknown(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else f" (known: {', '.join(known)})"
    return f"unknown key {key!r}{hint}"
