"""Read one or more files into one document, or say which line of which
file is wrong and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from cronium_app.ascode import yamltext
from cronium_app.ascode.document import Document
from cronium_app.errors import Invalid

KINDS = ("variables", "events", "workflows")
NAME_OF = {"variables": "key", "events": "name", "workflows": "name"}


@dataclass(frozen=True)
class Source:
    name: str
    text: str


@dataclass(frozen=True)
class Where:
    file: str
    line: int | None

    def __str__(self) -> str:
        return f"{self.file} line {self.line}" if self.line else self.file


@dataclass
class Parsed:
    """The merged document, and where each item of it was written."""

    document: Document
    origins: dict[tuple[str, int], Where] = field(default_factory=dict)
    # (kind, index in the merged document) -> the file, its located values
    # and the item's index in that file: the line of any field of an item.
    located: dict[tuple[str, int], tuple[str, yamltext.Located, int]] = field(default_factory=dict)

    def where(self, kind: str, index: int, *path: str | int) -> Where:
        """Where an item, or one of its fields (`path`), was written."""
        if not path or (kind, index) not in self.located:
            return self.origins[(kind, index)]
        name, located, own_index = self.located[(kind, index)]
        return Where(name, located.line_of((kind, own_index, *path)))

    def label(self, kind: str, index: int, *path: str | int) -> str:
        """A field's path as the file has it: `events[1] (nightly).schedule.type`."""
        _name, located, own_index = self.located[(kind, index)]
        return _label((kind, own_index, *path), located.data)


def problem(where: Where, path: str, message: str) -> dict[str, Any]:
    return {"file": where.file, "line": where.line, "field": path, "message": message}


def refuse(problems: list[dict[str, Any]]) -> Invalid:
    """A 422 that names, for each problem, the file, the line and the field."""
    def text(p: dict[str, Any]) -> str:
        where = Where(p["file"], p["line"])
        return f"{where}: {p['field']}: {p['message']}" if p["field"] else f"{where}: {p['message']}"

    return Invalid("; ".join(text(p) for p in problems[:10]), problems=problems[:50])


def _label(loc: tuple[str | int, ...], data: Any) -> str:
    """`events[1] (nightly).schedule.cronExpression`: the path, with the
    name of the item it is in."""
    out, node = "", data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("name") or node.get("key"), str):
                out += f" ({node.get('name') or node.get('key')})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _one(source: Source) -> tuple[Document, yamltext.Located]:
    try:
        located = yamltext.load(source.text)
    except yamltext.YamlError as exc:
        raise refuse([problem(Where(source.name, exc.line), "", str(exc))]) from None
    if not isinstance(located.data, dict):
        raise refuse([problem(Where(source.name, 1), "", "a document is a mapping with `version: 1` at the top")])
    try:
        return Document.model_validate(located.data), located
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(problem(Where(source.name, located.line_of(loc)), _label(loc, located.data), err["msg"]))
        raise refuse(problems) from None


def parse(sources: list[Source]) -> Parsed:
    if not sources:
        raise Invalid("no document given")
    merged: dict[str, list[Any]] = {kind: [] for kind in KINDS}
    origins: dict[tuple[str, int], Where] = {}
    located_items: dict[tuple[str, int], tuple[str, yamltext.Located, int]] = {}
    seen: dict[tuple[str, str], Where] = {}
    problems = []
    for source in sources:
        document, located = _one(source)
        for kind in KINDS:
            for index, item in enumerate(getattr(document, kind)):
                where = Where(source.name, located.line_of((kind, index)))
                name = getattr(item, NAME_OF[kind])
                if (kind, name) in seen:
                    problems.append(problem(where, f"{kind}[{index}].{NAME_OF[kind]}",
                                            f"{name!r} is named twice (also at {seen[(kind, name)]})"))
                seen[(kind, name)] = where
                origins[(kind, len(merged[kind]))] = where
                located_items[(kind, len(merged[kind]))] = (source.name, located, index)
                merged[kind].append(item)
    if problems:
        raise refuse(problems)
    return Parsed(Document(version=1, **merged), origins, located_items)
