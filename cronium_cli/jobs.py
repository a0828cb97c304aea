"""`cronium jobs ...`."""

from __future__ import annotations

import typer

from cronium_cli.client import Api
from cronium_cli.follow import follow, print_line
from cronium_cli.options import AS_JSON, LIMIT, RECONNECT
from cronium_cli.output import emit, fields, print_json, table

app = typer.Typer(help="Jobs: every run of an event. List them, show one, print its log, cancel it.",
                  no_args_is_help=True)

JOB = typer.Argument(..., help="The job's id.")
COLUMNS = [("id", "ID"), ("eventName", "EVENT"), ("status", "STATUS"), ("exitCode", "EXIT"),
           ("createdAt", "CREATED"), ("durationMs", "MS")]
SHOWN = ["id", "eventId", "eventName", "workflowRunId", "type", "status", "exitCode", "error", "attempt",
         "retryNumber", "workerId", "createdAt", "startedAt", "completedAt", "durationMs", "input", "output",
         "condition"]


@app.command("ls")
def list_jobs(
    event: str = typer.Option(None, "--event", help="Only the jobs of this event (id or name)."),
    status: list[str] = typer.Option(None, "--status", help="Only jobs with this status (repeat for several): "
                                                            "pending, running, completed, failed, timed_out, ..."),
    limit: int = LIMIT,
    as_json: bool = AS_JSON,
) -> None:
    """List your jobs, newest first."""
    api = Api.from_config()
    event_id = api.find_event(event)["id"] if event else None
    items, cursor = [], None
    while len(items) < limit:
        page = api.get("/api/v1/jobs", limit=min(200, limit - len(items)), cursor=cursor, eventId=event_id,
                       status=status or None)
        items.extend(page["items"])
        cursor = page["nextCursor"]
        if not cursor:
            break
    emit(items, as_json, lambda rows: table(rows, COLUMNS, empty="No jobs."))


@app.command("show")
def show_job(job: str = JOB, as_json: bool = AS_JSON) -> None:
    """Show a job: its status, exit code, times, input and output."""
    emit(Api.from_config().get(f"/api/v1/jobs/{job}"), as_json, lambda row: fields(row, SHOWN))


@app.command("logs")
def job_logs(
    job: str = JOB,
    follow_: bool = typer.Option(False, "--follow", "-f", help="Keep printing lines until the job ends, then "
                                                               "exit with its exit code."),
    reconnect_for: float = RECONNECT,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line (seq, stream, line, timestamp)."),
) -> int:
    """Print a job's log (stdout lines to stdout, the others to stderr)."""
    api = Api.from_config()
    if follow_:
        return follow(api, job, as_json=as_json, reconnect_for=reconnect_for)
    after = 0
    while True:
        body = api.get(f"/api/v1/jobs/{job}/logs", after_seq=after, limit=10_000)
        for line in body["lines"]:
            print_line(line, as_json)
        if not body["lines"]:
            return 0
        after = body["lastSeq"]


@app.command("cancel")
def cancel_job(job: str = JOB, as_json: bool = AS_JSON) -> None:
    """Cancel a job: a waiting one at once, a running one is stopped by its worker."""
    row = Api.from_config().post(f"/api/v1/jobs/{job}/cancel")
    if as_json:
        print_json(row)
    else:
        fields(row, ["id", "status", "cancelRequested"])
