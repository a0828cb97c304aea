"""`cronium events ...` and `cronium run`."""

from __future__ import annotations

from pathlib import Path

import typer

from cronium_cli.client import Api
from cronium_cli.follow import follow
from cronium_cli.options import AS_JSON, FOLLOW, INPUT, INPUT_FILE, LIMIT, RECONNECT, run_input
from cronium_cli.output import emit, err, fields, out, table

app = typer.Typer(help="Events: list them, show one, run one.", no_args_is_help=True)

EVENT = typer.Argument(..., help="The event's id or its exact name.")
RUN_HELP = ("Run an event: queue a job with an optional input and print its id, or with --follow print its log "
            "as it is written and exit with the job's exit code (for CI pipelines).")
COLUMNS = [("id", "ID"), ("name", "NAME"), ("type", "TYPE"), ("status", "STATUS"),
           ("scheduleType", "SCHEDULE"), ("nextFireAt", "NEXT RUN")]
SHOWN = ["id", "name", "description", "type", "status", "timeoutSeconds", "retries", "cpus", "memoryMb",
         "pidsLimit", "network", "envVars", "secretEnvVarNames", "image", "tags", "serverIds", "serverTags",
         "scheduleType", "cronExpression", "intervalSeconds", "runAt", "timezone", "nextFireAt", "maxExecutions",
         "executionCount", "misfirePolicy", "overlapPolicy", "httpRequest", "createdAt", "updatedAt"]


@app.command("ls")
def list_events(
    q: str = typer.Option(None, "--search", "-q", help="Only events whose name or description holds this text."),
    status: str = typer.Option(None, "--status", help="Only events with this status: draft, active, paused, archived."),
    type_: str = typer.Option(None, "--type", help="Only events of this type: bash, python, node, http."),
    limit: int = LIMIT,
    as_json: bool = AS_JSON,
) -> None:
    """List your events, newest first."""
    items = Api.from_config().paged("/api/v1/events", limit=limit, q=q, status=status, type=type_)
    emit(items, as_json, lambda rows: table(rows, COLUMNS, empty="No events."))


@app.command("show")
def show_event(event: str = EVENT, as_json: bool = AS_JSON) -> None:
    """Show an event's settings, schedule and script."""
    found = Api.from_config().find_event(event)

    def human(row: dict) -> None:
        fields(row, SHOWN)
        if row["script"]:
            out.rule("script")
            out.print(row["script"], markup=False, highlight=False)

    emit(found, as_json, human)


def run(
    event: str = EVENT,
    input_: str = INPUT,
    input_file: Path = INPUT_FILE,
    follow_: bool = FOLLOW,
    reconnect_for: float = RECONNECT,
    as_json: bool = AS_JSON,
) -> int:
    api = Api.from_config()
    found = api.find_event(event)
    queued = api.post(f"/api/v1/events/{found['id']}/execute", run_input(input_, input_file))
    if not follow_:
        emit(queued, as_json, lambda q: out.print(q["jobId"], markup=False))
        return 0
    if not as_json:
        err.print(f"job {queued['jobId']} of event {found['name']!r}", style="dim", markup=False)
    return follow(api, queued["jobId"], as_json=as_json, reconnect_for=reconnect_for)


app.command("run", help=RUN_HELP)(run)
