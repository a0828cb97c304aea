"""Following a job: its log as it is written, then its end as an exit code.

The log is read by sequence number (`after_seq`), so a dropped connection
loses and repeats nothing: the command waits, says so, and asks again for
the lines after the last one it printed."""

from __future__ import annotations

import json
import sys
import time
from contextlib import nullcontext
from typing import Any

from cronium_cli import exits
from cronium_cli.client import Api
from cronium_cli.exits import Unreachable
from cronium_cli.output import err

POLL_SECONDS = 0.25
RECONNECT_MAX_WAIT = 5.0
WAITING = ("pending", "acknowledged")


def exit_code(job: dict[str, Any]) -> int:
    """The job's end as an exit code: the script's own when it has one."""
    status = job["status"]
    if status == "timed_out":
        return exits.TIMED_OUT
    if status == "cancelled":
        return exits.CANCELLED
    if job.get("exitCode") is not None:
        return int(job["exitCode"]) & 0xFF
    return exits.OK if status == "completed" else exits.JOB_FAILED


def print_line(line: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return
    stream = sys.stdout if line["stream"] == "stdout" else sys.stderr
    stream.write(line["line"] + "\n")
    stream.flush()


class _Progress:
    """A spinner on the terminal (stderr) while nothing has been printed yet."""

    def __init__(self, job_id: str):
        self.job_id = job_id
        self.status = err.status(f"job {job_id} queued…", spinner="dots") if err.is_terminal else None
        self.context = self.status or nullcontext()
        self.context.__enter__()

    def update(self, job_status: str) -> None:
        if self.status is not None:
            text = "waiting for a worker" if job_status in WAITING else job_status
            self.status.update(f"job {self.job_id} {text}…")

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


def follow(api: Api, job_id: str, *, as_json: bool = False, reconnect_for: float = 300.0) -> int:
    after, lost_since, wait = 0, None, POLL_SECONDS
    progress = _Progress(job_id)
    try:
        while True:
            try:
                body = api.get(f"/api/v1/jobs/{job_id}/logs", after_seq=after, limit=1000)
            except Unreachable as exc:
                lost_since = lost_since or time.monotonic()
                if time.monotonic() - lost_since > reconnect_for:
                    raise Unreachable(f"{exc.message}; gave up after {reconnect_for:.0f} s") from None
                if wait == POLL_SECONDS:
                    progress.stop()
                    err.print(f"connection lost ({exc.message}); retrying…", style="yellow", markup=False)
                time.sleep(wait)
                wait = min(wait * 2, RECONNECT_MAX_WAIT)
                continue
            if lost_since is not None:
                err.print(f"reconnected; going on after line {after}", style="green", markup=False)
                lost_since, wait = None, POLL_SECONDS
            if body["lines"]:
                progress.stop()
            for line in body["lines"]:
                print_line(line, as_json)
            after = body["lastSeq"]
            if body["complete"]:
                break
            progress.update(body["status"])
            if not body["lines"]:
                time.sleep(POLL_SECONDS)
    finally:
        progress.stop()
    job = api.get(f"/api/v1/jobs/{job_id}")
    if as_json:
        sys.stdout.write(json.dumps({"job": job}, ensure_ascii=False) + "\n")
    elif job["status"] != "completed" or job.get("exitCode"):
        reason = f": {job['error']}" if job.get("error") else ""
        code = f" (exit code {job['exitCode']})" if job.get("exitCode") is not None else ""
        err.print(f"job {job_id} {job['status']}{code}{reason}", markup=False)
    return exit_code(job)
