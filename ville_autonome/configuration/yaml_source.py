"""YAML documents that remember where each node was, and the one format of a problem in them.

Shared by the configuration loader and the register profiles (``registers.profile_loading``),
so that every problem in any YAML file the platform reads is one line::

    FILE:LINE: path.in[0].document: reason

- :func:`parse_yaml` reads the text into plain data *and* its node tree (for line numbers); a
  syntax error is a :class:`~configuration.errors.ConfigError` with the line of the fault.
- :class:`YamlLines` finds the line of a path (``("points", 3, "datatype")``): the key's line
  for a mapping entry, the item's for a list entry, the deepest existing node otherwise.
- :func:`format_loc` writes a path; :func:`pydantic_reason` turns one pydantic error into a
  sentence (never echoing a secret); :class:`Problems` collects ``(path, reason)`` pairs and
  formats them all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ville_autonome.configuration.errors import ConfigError

Loc = tuple[str | int, ...]


def format_loc(loc: Iterable[str | int]) -> str:
    """``("points", 3, "datatype")`` → ``points[3].datatype``; the empty path is ``(document)``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


class YamlLines:
    """Line numbers (1-based) of the nodes of a composed YAML document, addressed by path."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def line(self, loc: Iterable[str | int]) -> int:
        node = self.root
        best = node.start_mark.line + 1 if node is not None else 1
        for part in loc:
            nxt: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                        nxt, best = value, key.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                nxt = node.value[part]
                best = nxt.start_mark.line + 1
            if nxt is None:
                break
            node = nxt
        return best


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """Plain data (``yaml.safe_load``) and where each node was."""

    data: Any
    lines: YamlLines
    source: str


def parse_yaml(text: str, source: str) -> YamlDocument:
    """Parse ``text``; a syntax error is one :class:`ConfigError` line with its line number."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ConfigError([f"{at}: YAML syntax error: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: YAML error: {exc}"]) from None
    return YamlDocument(data, YamlLines(root), source)


def pydantic_reason(err: ErrorDetails, secret_fields: Collection[str] = (), schema: str = "configuration") -> str:
    """One pydantic error as a sentence; the value is not echoed for a field in ``secret_fields``.
    ``schema`` names the kind of document in "unknown field" messages."""
    loc = err["loc"]
    name = str(loc[-1]) if loc else ""
    secret = name in secret_fields
    kind = err["type"]
    given = err.get("input")
    if kind == "literal_error" and not secret:
        expected = str(err.get("ctx", {}).get("expected", ""))
        options = ", ".join(o.strip().strip("'") for o in expected.replace(" or ", ", ").split(","))
        return f"{given!r} is not one of {options}"
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return f"unknown field (not part of the {schema} schema)"
    if kind == "string_pattern_mismatch" and not secret:
        return f"{given!r} is not a valid identifier (lower-case letters, digits, '-' and '_', at most 64)"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if secret or isinstance(given, dict | list):
        return msg
    return f"{msg} (got {given!r})"


@dataclass
class Problems:
    """Problems of one document, each ``(path, reason)``, formatted ``FILE:LINE: path: reason``.

    ``where`` may name another place than the file for some paths (an environment variable that
    overrode a setting); it returns ``None`` for the file's own line.
    """

    doc: YamlDocument
    schema: str = "configuration"
    items: list[str] = field(default_factory=list)

    def add(self, loc: Loc, reason: str, *, where: str | None = None) -> None:
        at = where or f"{self.doc.source}:{self.doc.lines.line(loc)}"
        self.items.append(f"{at}: {format_loc(loc)}: {reason}")

    def add_validation_error(
        self,
        exc: ValidationError,
        loc: Loc = (),
        *,
        secret_fields: Collection[str] = (),
        where: Callable[[Loc], str | None] | None = None,
    ) -> None:
        """Every error of a pydantic validation of the node at ``loc``."""
        for err in exc.errors():
            full = (*loc, *err["loc"])
            reason = pydantic_reason(err, secret_fields, self.schema)
            self.add(full, reason, where=where(full) if where else None)

    def extend(self, lines: Iterable[str]) -> None:
        """Lines already formatted (another file's problems)."""
        self.items.extend(lines)

    def raise_if_any(self, error: type[ConfigError] = ConfigError) -> None:
        if self.items:
            raise error(list(self.items))
