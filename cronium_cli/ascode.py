"""`cronium export` and `cronium apply`: events, workflows, schedules and
variables as a YAML document (README, "Events as code"). The server reads
and checks the document; this side only moves files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from cronium_cli import exits
from cronium_cli.client import Api
from cronium_cli.exits import CliError
from cronium_cli.output import err, out, print_json

KINDS = ("variables", "events", "workflows")
MARK = {"create": "+", "update": "~", "unchanged": "=", "delete": "-"}
STYLE = {"create": "green", "update": "yellow", "unchanged": "dim", "delete": "red"}


def export(
    out: str = typer.Option(None, "--out", "-o", help="A file, or a directory (existing, or ending in /) "
                                                            "to write variables.yaml, events.yaml and "
                                                            "workflows.yaml into. Standard output when left out."),
    include: list[str] = typer.Option(None, "--include", help="Only these kinds (repeat): variables, events, workflows."),
) -> None:
    """Export your events, workflows (steps name their events), schedules and
    variables as YAML (version 1). Secrets are written as references (their
    names), never their values."""
    api = Api.from_config()
    kinds = include or list(KINDS)
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise CliError(f"--include takes variables, events or workflows, not {', '.join(unknown)}", exits.USAGE)
    # A str, not a Path: a Path loses the trailing "/" that says "a directory".
    out_path = Path(out) if out is not None else None
    if out_path is not None and (out_path.is_dir() or out.endswith("/")):
        out_path.mkdir(parents=True, exist_ok=True)
        for kind in kinds:
            _write(api.get("/api/v1/as-code/export", include=[kind]), out_path / f"{kind}.yaml")
        return
    reply = api.get("/api/v1/as-code/export", include=kinds)
    if out_path is None:
        sys.stdout.write(reply["yaml"])
        _warn(reply["warnings"])
    else:
        _write(reply, out_path)


def _write(reply: dict[str, Any], path: Path) -> None:
    path.write_text(reply["yaml"])
    counts = ", ".join(f"{n} {kind}" for kind, n in reply["counts"].items())
    err.print(f"wrote {path} ({counts})", markup=False)
    _warn(reply["warnings"])


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        err.print(f"warning: {warning}", style="yellow", markup=False)


def _files(paths: list[Path]) -> list[dict[str, str]]:
    files = []
    for path in paths:
        if str(path) == "-":
            files.append({"name": "<stdin>", "content": sys.stdin.read()})
        elif path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                raise CliError(f"{path}: no .yaml file in it", exits.USAGE)
            files.extend({"name": str(f), "content": f.read_text()} for f in found)
        elif path.exists():
            files.append({"name": str(path), "content": path.read_text()})
        else:
            raise CliError(f"{path}: no such file or directory", exits.USAGE)
    return files


def print_plan(plan: dict[str, Any]) -> None:
    for change in plan["changes"]:
        action = change["action"]
        detail = f" ({', '.join(change['fields'])})" if change["fields"] else ""
        out.print(f"{MARK[action]} {change['kind']} {change['name']!r}: {action}{detail}",
                  style=STYLE[action], markup=False, highlight=False)
    summary = plan["summary"]
    out.print(f"Plan: {summary['create']} to create, {summary['update']} to update, "
              f"{summary['delete']} to delete, {summary['unchanged']} unchanged.", markup=False)
    _warn(plan["warnings"])


def apply(
    files: list[Path] = typer.Option(..., "--file", "-f", help="A YAML file, a directory of them, or - for the "
                                                              "standard input (repeat for several)."),
    prune: bool = typer.Option(False, "--prune", help="Also delete the events, workflows and variables the "
                                                      "files do not name."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only print the plan; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Apply without asking (needed when not in a terminal)."),
    as_json: bool = typer.Option(False, "--json", help="Print {\"plan\": ..., \"applied\": true|false} as JSON (the plan carried out, when applied)."),
) -> int:
    """Make the server hold what the files say: print the plan (create,
    update, unchanged, delete), then apply it, all of it or nothing. Items
    are matched by name. Secret references are never written or cleared. A
    file that is not valid is refused with the file, line and field at fault."""
    api = Api.from_config()
    body = {"files": _files(files), "prune": prune}
    plan = api.post("/api/v1/as-code/plan", body)
    if not as_json:
        print_plan(plan)
    summary = plan["summary"]
    if dry_run or not (summary["create"] or summary["update"] or summary["delete"]):
        if as_json:
            print_json({"plan": plan, "applied": False})
        return 0
    if not yes:
        if not sys.stdin.isatty():
            raise CliError("not applied: add --yes to apply without a terminal to ask in", exits.USAGE)
        if not typer.confirm("Apply these changes?", default=False, err=True):
            err.print("Nothing changed.", markup=False)
            return 0
    applied = api.post("/api/v1/as-code/apply", {**body, "fingerprint": plan["fingerprint"]})
    if as_json:
        print_json({"plan": applied["plan"], "applied": True})
    else:
        err.print("Applied.", style="green", markup=False)
    return 0
