"""What commands print: tables for people, JSON for scripts (`--json`)."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

JSON_OPTION_HELP = "Print the API's JSON reply instead of a table (for scripts)."


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def table(rows: Iterable[dict[str, Any]], columns: list[tuple[str, str]], *, empty: str) -> None:
    rows = list(rows)
    if not rows:
        err.print(empty)
        return
    grid = Table(show_edge=False, header_style="bold")
    for _key, title in columns:
        grid.add_column(title, overflow="fold")
    for row in rows:
        grid.add_row(*(Text(shown(row.get(key))) for key, _title in columns))
    out.print(grid)


def fields(row: dict[str, Any], keys: list[str]) -> None:
    """One item, a field per line."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for key in keys:
        grid.add_row(key, Text(shown(row.get(key))))
    out.print(grid)


def emit(data: Any, as_json: bool, human) -> None:
    if as_json:
        print_json(data)
    else:
        human(data)
