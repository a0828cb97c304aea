"""`cronium variables ...`."""

from __future__ import annotations

import csv
import io
import json
import shlex
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from cronium_cli import exits
from cronium_cli.client import Api
from cronium_cli.exits import CliError
from cronium_cli.options import AS_JSON
from cronium_cli.output import emit, err, out, print_json, table

app = typer.Typer(help="Variables: JSON values your scripts read and write by key.", no_args_is_help=True)

KEY = typer.Argument(..., help="The variable's key (letters, digits, '_', '.', '-').")
COLUMNS = [("key", "KEY"), ("value", "VALUE"), ("secret", "SECRET"), ("updatedAt", "UPDATED")]


class Format(str, Enum):
    json = "json"
    env = "env"
    csv = "csv"


def _all(api: Api) -> list[dict[str, Any]]:
    return api.paged("/api/v1/variables", limit=1_000_000)


def _text(value: Any) -> str:
    """A value as a shell or a CSV cell takes it: text as it is, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@app.command("ls")
def list_variables(as_json: bool = AS_JSON) -> None:
    """List your variables (a secret one shows no value)."""
    items = _all(Api.from_config())
    emit(items, as_json, lambda rows: table(rows, COLUMNS, empty="No variables."))


@app.command("get")
def get_variable(key: str = KEY, as_json: bool = AS_JSON) -> int:
    """Print a variable's value: text as it is, anything else as JSON. A
    secret variable has no value to print (exit 65)."""
    row = Api.from_config().get(f"/api/v1/variables/{key}")
    if as_json:
        print_json(row)
        return 0
    if row["secret"]:
        raise CliError(f"{key} is secret: its value is write-only", exits.REFUSED)
    out.print(_text(row["value"]), markup=False, highlight=False)
    return 0


@app.command("set")
def set_variable(
    key: str = KEY,
    value: str = typer.Argument(..., help="The value (text; with --parse-json, a JSON value)."),
    parse_json: bool = typer.Option(False, "--parse-json", help="Read VALUE as JSON (a number, a list, ...)."),
    secret: bool = typer.Option(None, "--secret/--plain", help="Seal it: never shown again, still read by your "
                                                               "scripts. Left out, a variable stays what it was."),
    as_json: bool = AS_JSON,
) -> None:
    """Create or replace a variable."""
    try:
        parsed = json.loads(value) if parse_json else value
    except json.JSONDecodeError as exc:
        raise CliError(f"VALUE is not JSON: {exc}", exits.USAGE) from None
    body: dict[str, Any] = {"value": parsed}
    if secret is not None:
        body["secret"] = secret
    row = Api.from_config().request("PUT", f"/api/v1/variables/{key}", json=body)
    emit(row, as_json, lambda r: err.print(f"{r['key']} saved" + (" (secret)" if r["secret"] else ""), markup=False))


@app.command("export")
def export_variables(
    format_: Format = typer.Option(Format.json, "--format", help="json: one object, key to value; env: KEY=value "
                                                                 "lines, shell-quoted; csv: key,value,secret rows."),
    out_path: Path = typer.Option(None, "--out", "-o", help="Write to this file instead of the standard output."),
) -> None:
    """Export your variables. Secret ones are written without their value
    (json: null, env: left out with a comment, csv: empty)."""
    rows = _all(Api.from_config())
    text = render(rows, format_)
    if out_path is None:
        sys.stdout.write(text)
    else:
        out_path.write_text(text)
        err.print(f"{len(rows)} variables written to {out_path}", markup=False)


def render(rows: list[dict[str, Any]], format_: Format) -> str:
    if format_ is Format.json:
        return json.dumps({row["key"]: row["value"] for row in rows}, indent=2, ensure_ascii=False) + "\n"
    if format_ is Format.env:
        lines = [f"# {row['key']}: secret, not exported" if row["secret"]
                 else f"{row['key']}={shlex.quote(_text(row['value']))}" for row in rows]
        return "".join(line + "\n" for line in lines)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["key", "value", "secret"])
    for row in rows:
        writer.writerow([row["key"], "" if row["secret"] else _text(row["value"]), str(row["secret"]).lower()])
    return buffer.getvalue()
