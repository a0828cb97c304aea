"""`cronium workflows ...`."""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path

import typer

from cronium_cli import exits
from cronium_cli.client import Api
from cronium_cli.options import AS_JSON, INPUT, INPUT_FILE, LIMIT, run_input
from cronium_cli.output import emit, err, out, print_json, table

app = typer.Typer(help="Workflows: list them, run one.", no_args_is_help=True)

COLUMNS = [("id", "ID"), ("name", "NAME"), ("status", "STATUS"), ("scheduleType", "SCHEDULE"),
           ("nextFireAt", "NEXT RUN")]
RUN_EXIT = {"completed": exits.OK, "failed": exits.JOB_FAILED, "cancelled": exits.CANCELLED}


@app.command("ls")
def list_workflows(
    q: str = typer.Option(None, "--search", "-q", help="Only workflows whose name holds this text."),
    limit: int = LIMIT,
    as_json: bool = AS_JSON,
) -> None:
    """List your workflows, newest first."""
    items = Api.from_config().paged("/api/v1/workflows", limit=limit, q=q)
    emit(items, as_json, lambda rows: table(rows, COLUMNS, empty="No workflows."))


@app.command("run")
def run_workflow(
    workflow: str = typer.Argument(..., help="The workflow's id or its exact name."),
    input_: str = INPUT,
    input_file: Path = INPUT_FILE,
    follow_: bool = typer.Option(False, "--follow", "-f", help="Print each step as it ends, then exit 0 when the "
                                                               "run completed, 1 when it failed, 125 when cancelled."),
    as_json: bool = AS_JSON,
) -> int:
    """Start a run of a workflow and print its id (or follow it to its end)."""
    api = Api.from_config()
    found = api.find_workflow(workflow)
    started = api.post(f"/api/v1/workflows/{found['id']}/execute", run_input(input_, input_file))
    if not follow_:
        emit(started, as_json, lambda s: out.print(s["runId"], markup=False))
        return 0
    seen: dict[int, str | None] = {}
    with err.status(f"run {started['runId']} of {found['name']!r}…") if err.is_terminal else nullcontext():
        while True:
            run = api.get(f"/api/v1/workflow-runs/{started['runId']}")
            for step in run["steps"]:
                if seen.get(step["stepId"]) != step["status"]:
                    seen[step["stepId"]] = step["status"]
                    if not as_json:
                        out.print(f"{step['name']}: {step['status']}" + (f" (job {step['jobId']})" if step["jobId"] else ""),
                                  markup=False)
            if run["status"] != "running":
                break
            time.sleep(0.5)
    if as_json:
        print_json(run)
    else:
        err.print(f"run {run['id']} {run['status']}", markup=False)
    return RUN_EXIT.get(run["status"], exits.JOB_FAILED)
