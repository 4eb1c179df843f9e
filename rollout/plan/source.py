"""Reads a YAML document into plain data while remembering where every key came from.

Only the JSON-like subset of YAML is accepted: no Python or custom tags, no
duplicate keys, and anchors/aliases may expand to a bounded size only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rollout.plan.errors import KeyPath, Location, PlanError, PlanInvalidError

MAX_EXPANDED_NODES = 100_000
MAX_DEPTH = 64

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_YAML}{name}" for name in ("str", "int", "float", "bool", "null")}
_TIMESTAMP = f"{_YAML}timestamp"
_STR = f"{_YAML}str"


# libyaml's parser is ten times faster; the pure-Python one gives the same nodes.
try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _PlanLoader(_BaseLoader):
    """A safe loader without implicit timestamps: a date-like value stays the text it reads as."""


_PlanLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class Locations(Mapping[KeyPath, Location]):
    """Where each key path was written; a Location is made only when one is asked for,
    since a large plan has tens of thousands of keys and nearly all are never reported."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.marks: dict[KeyPath, Any] = {}

    def __getitem__(self, path: KeyPath) -> Location:
        return _location(self.marks[path], self.file)

    def __iter__(self) -> Iterator[KeyPath]:
        return iter(self.marks)

    def __len__(self) -> int:
        return len(self.marks)


@dataclass(frozen=True)
class SourceDocument:
    """Plain data from a YAML file, with the location of each key and list item."""

    file: str
    data: Any
    locations: Mapping[KeyPath, Location]

    def locate(self, path: KeyPath) -> Location:
        """The location of `path`, or of its nearest ancestor that exists in the file."""
        for end in range(len(path), -1, -1):
            found = self.locations.get(path[:end])
            if found is not None:
                return found
        return Location(self.file, 1, 1)

    def error(self, path: KeyPath, message: str) -> PlanError:
        """A PlanError located at `path`."""
        return PlanError(self.locate(path), path, message)


def parse_source(text: str, file: str) -> SourceDocument:
    """Parse YAML text; raise PlanInvalidError with a located message on any problem."""
    try:
        # The pure-Python loader checks every character as soon as it is built.
        loader = _PlanLoader(text)
    except yaml.reader.ReaderError as exc:
        raise PlanInvalidError([_character_error(exc, text, file)]) from None
    try:
        root = loader.get_single_node()
        if root is None:
            raise PlanInvalidError([PlanError(Location(file, 1, 1), (), "the file is empty")])
        builder = _Builder(loader, file)
        data = builder.build(root, (), 0)
    except yaml.MarkedYAMLError as exc:
        raise PlanInvalidError([_yaml_error(exc, file)]) from None
    except yaml.reader.ReaderError as exc:
        raise PlanInvalidError([_character_error(exc, text, file)]) from None
    finally:
        loader.dispose()
    return SourceDocument(file, data, builder.locations)


def _location(node_or_mark: Any, file: str) -> Location:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return Location(file, mark.line + 1, mark.column + 1)


def _yaml_error(exc: yaml.MarkedYAMLError, file: str) -> PlanError:
    mark = exc.problem_mark or exc.context_mark
    location = _location(mark, file) if mark is not None else Location(file, 1, 1)
    problem = exc.problem or "invalid YAML"
    if "'\\t'" in problem or "tab character" in problem:
        return PlanError(location, (), "a tab character here: indent YAML with spaces")
    if "another document" in problem:
        return PlanError(location, (), "a plan file holds one YAML document; remove this one")
    context = f" ({exc.context})" if exc.context else ""
    return PlanError(location, (), f"invalid YAML: {problem}{context}")


def _character_error(exc: yaml.reader.ReaderError, text: str, file: str) -> PlanError:
    """Locate a character YAML refuses: its error has only an offset, in bytes with libyaml."""
    character = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
    # The reader refuses such a character wherever it stands, so the first one is the culprit.
    index = text.find(character)
    if index < 0:
        return PlanError(Location(file, 1, 1), (), f"invalid YAML: {exc.reason}")
    # A stand-in for the character ends the last line (some control characters break lines).
    lines = (text[:index] + "?").splitlines()
    code = f"U+{ord(character):04X}"
    kind = "a control character" if unicodedata.category(character) == "Cc" else "the character"
    return PlanError(
        Location(file, len(lines), len(lines[-1])),
        (),
        f"{kind} {code} is not allowed in a YAML file; remove it",
    )


def _tag_not_allowed(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_YAML) if tag.startswith(_YAML) else tag
    return f"the YAML tag {shown} is not allowed in a plan file (plain values only)"


class _Builder:
    """Turns composed nodes into dicts, lists and scalars, counting aliased expansion."""

    def __init__(self, loader: _PlanLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.locations = Locations(file)
        self.marks = self.locations.marks
        # An alias is the very node its anchor names; the tree holds every node, so ids stay unique.
        self.built: set[int] = set()
        self.expanded = 0

    def fail(self, node: Node, path: KeyPath, message: str) -> PlanInvalidError:
        return PlanInvalidError([PlanError(_location(node, self.file), path, message)])

    def build(self, node: Node, path: KeyPath, depth: int) -> Any:
        if id(node) in self.built:
            self.count_expansion(node, path)
        self.built.add(id(node))
        if depth > MAX_DEPTH:
            raise self.fail(node, path, f"nested deeper than {MAX_DEPTH} levels")
        self.marks.setdefault(path, node.start_mark)
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, SequenceNode):
            self.require_tag(node, path, f"{_YAML}seq")
            return [
                self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)
            ]
        if isinstance(node, MappingNode):
            self.require_tag(node, path, f"{_YAML}map")
            return self.mapping(node, path, depth)
        raise self.fail(node, path, "unsupported YAML node")

    def count_expansion(self, node: Node, path: KeyPath) -> None:
        """Count one value built again through an alias; refuse a document that multiplies."""
        self.expanded += 1
        if self.expanded <= MAX_EXPANDED_NODES:
            return
        # Blame the top-level entry that blew up, where a person can see the aliases.
        top = path[:1]
        raise PlanInvalidError(
            [
                PlanError(
                    self.locations.get(top, _location(node, self.file)),
                    top,
                    f"the document expands to more than {MAX_EXPANDED_NODES} values through "
                    "anchors and aliases; refusing it (a YAML alias bomb?)",
                )
            ]
        )

    def require_tag(self, node: Node, path: KeyPath, tag: str) -> None:
        if node.tag != tag:
            raise self.fail(node, path, _tag_not_allowed(node.tag))

    def scalar(self, node: ScalarNode, path: KeyPath) -> Any:
        # Most values are strings: taken as written, without the constructor's bookkeeping.
        if node.tag == _STR:
            return node.value
        if node.tag not in _SCALAR_TAGS:
            raise self.fail(node, path, _tag_not_allowed(node.tag))
        return self.loader.construct_object(node, deep=True)

    def mapping(self, node: MappingNode, path: KeyPath, depth: int) -> dict[str, Any]:
        self.loader.flatten_mapping(node)  # resolves `<<` merge keys in place
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                raise self.fail(key_node, path, "a key must be a plain string")
            # The key's source text, so that `on:` or `1:` stay the strings they read as.
            key = key_node.value
            key_path = (*path, key)
            if key in result:
                line = self.locations[key_path].line
                raise self.fail(key_node, key_path, f"duplicate key (first given on line {line})")
            self.marks[key_path] = key_node.start_mark
            result[key] = self.build(value_node, key_path, depth + 1)
        return result
