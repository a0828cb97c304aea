"""Options several commands share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from cronium_cli import exits
from cronium_cli.exits import CliError
from cronium_cli.output import JSON_OPTION_HELP

AS_JSON = typer.Option(False, "--json", help=JSON_OPTION_HELP)
LIMIT = typer.Option(50, "--limit", min=1, max=10_000, help="How many to list at most.")
FOLLOW = typer.Option(False, "--follow", "-f",
                      help="Print the log as it is written, then exit with the job's exit code (124: timed out, "
                           "125: cancelled). A dropped connection is retried; no line is lost or repeated.")
INPUT = typer.Option(None, "--input", "-i", help="The run's input, as JSON (a script reads it with cronium.input()).")
INPUT_FILE = typer.Option(None, "--input-file", exists=True, dir_okay=False,
                          help="Read the input (JSON) from this file instead.")
RECONNECT = typer.Option(300.0, "--reconnect-for", min=0,
                         help="With --follow: how long to keep retrying a lost connection, in seconds (then exit 69).")


def run_input(text: str | None, path: Path | None) -> dict[str, Any] | None:
    """The body of an execute request: {"input": ...}, or none."""
    if text is not None and path is not None:
        raise CliError("give --input or --input-file, not both", exits.USAGE)
    raw = path.read_text() if path is not None else text
    if raw is None:
        return None
    try:
        return {"input": json.loads(raw)}
    except json.JSONDecodeError as exc:
        raise CliError(f"--input is not JSON: {exc}", exits.USAGE) from None
