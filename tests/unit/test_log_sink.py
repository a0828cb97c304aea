"""The log sink against a fake app: system lines are cut like script lines,
and a batch the app refuses (413/422) costs only the lines it refuses."""

from __future__ import annotations

import asyncio
from typing import Any

from orchestrator_worker.client import Refused
from orchestrator_worker.jobs import ClaimedJob
from orchestrator_worker.logs import CONTINUED, Line, LogSink, as_runs
from orchestrator_worker.settings import WorkerSettings

LINE_MAX = 100
JOB = ClaimedJob(id="job-1", attempt=1, type="bash", user_id=1, execution={}, input=None, log_seq_start=1)  # type: ignore[typeddict-item]
SETTINGS = WorkerSettings(
    _env_file=None, ORCHESTRATOR_TOKEN="unit-test-token",
    CRONIUM_WORKER_LOG_LINE_MAX=str(LINE_MAX), CRONIUM_WORKER_LOG_BATCH="50", CRONIUM_WORKER_LOG_FLUSH="0.01",
)


class FakeApp:
    """Stores lines by seq like the app; refuses what its own caps refuse."""

    def __init__(self, *, line_max: int = 10_000, batch_max: int = 10_000, refuse_job: bool = False):
        self.line_max = line_max
        self.batch_max = batch_max
        self.refuse_job = refuse_job
        self.stored: dict[int, tuple[str, str]] = {}
        self.requests = 0

    async def logs(self, job_id: str, attempt: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
        self.requests += 1
        lines = [
            {"seq": run["seq"] + i, "stream": run["stream"], "line": text}
            for run in runs
            for i, text in enumerate(run["lines"])
        ]
        if self.refuse_job:
            raise Refused(409, f"cannot append logs: job {job_id} is held by another worker")
        if len(lines) > self.batch_max:
            raise Refused(413, f"a log batch holds at most {self.batch_max} lines")
        for item in lines:
            if len(item["line"]) > self.line_max:
                raise Refused(413, f"log line {item['seq']} has {len(item['line'])} characters")
        for item in lines:
            self.stored.setdefault(item["seq"], (item["stream"], item["line"]))
        return {"stored": len(lines)}

    def log(self) -> list[tuple[str, str]]:
        assert list(self.stored) == list(range(1, len(self.stored) + 1)), "the log has a gap"
        return [self.stored[seq] for seq in sorted(self.stored)]


def write(app: FakeApp, *entries: tuple[str, str]) -> LogSink:
    async def scenario() -> LogSink:
        sink = LogSink(JOB, app, SETTINGS)  # type: ignore[arg-type]
        for stream, text in entries:
            if stream == "system":
                await sink.system(text)
            else:
                await sink.line(stream, text)
        await sink.close()
        return sink

    return asyncio.run(scenario())


def test_a_long_system_line_is_cut_like_a_script_line():
    app = FakeApp()
    write(app, ("system", "worker error: " + "x" * 250))
    pieces = [text for _, text in app.log()]
    assert [len(piece) for piece in pieces] == [LINE_MAX + len(CONTINUED), LINE_MAX + len(CONTINUED), 64]
    assert "".join(piece.removesuffix(CONTINUED) for piece in pieces) == "worker error: " + "x" * 250


def test_a_line_the_app_refuses_is_replaced_by_a_note_and_the_rest_is_stored():
    app = FakeApp(line_max=60)
    sink = write(app, ("stdout", "before"), ("system", "y" * 90), ("stdout", "after"))
    assert app.log() == [
        ("stdout", "before"),
        ("system", "[a log line was lost here: the app refused it (413)]"),
        ("stdout", "after"),
    ]
    assert not sink.lost


def test_a_batch_larger_than_the_app_takes_is_split_and_nothing_is_lost():
    app = FakeApp(batch_max=7)
    lines = [("stdout", f"line {i}") for i in range(1, 41)]
    sink = write(app, *lines)
    assert app.log() == lines
    assert not sink.lost


def test_a_refused_note_is_dropped_rather_than_retried():
    app = FakeApp(line_max=10)
    sink = write(app, ("stdout", "short"), ("stdout", "far too long for it"))
    assert app.stored == {1: ("stdout", "short")}
    assert not sink.lost and app.requests < 10


def test_a_job_the_app_gave_to_another_attempt_stops_the_log():
    app = FakeApp(refuse_job=True)
    sink = write(app, ("stdout", "one"), ("stdout", "two"))
    assert sink.lost
    assert app.stored == {} and app.requests == 1


def test_lines_read_together_travel_as_one_run():
    stamp = "2026-01-01T00:00:00Z"
    lines = [Line(1, "stdout", "a", stamp), Line(2, "stdout", "b", stamp), Line(3, "stderr", "c", stamp), Line(4, "stderr", "d", "later")]
    assert as_runs(lines) == [
        {"seq": 1, "stream": "stdout", "timestamp": stamp, "lines": ["a", "b"]},
        {"seq": 3, "stream": "stderr", "timestamp": stamp, "lines": ["c"]},
        {"seq": 4, "stream": "stderr", "timestamp": "later", "lines": ["d"]},
    ]


def test_a_held_tail_is_returned_unsent_and_can_still_be_delivered():
    app = FakeApp()

    async def scenario() -> tuple[list, dict]:
        sink = LogSink(JOB, app, SETTINGS)  # type: ignore[arg-type]
        await sink.line("stdout", "last words")
        tail = await sink.close(hold_tail=True)
        before = dict(app.stored)
        await sink.deliver_tail()
        return tail, before

    tail, before = asyncio.run(scenario())
    assert [run["lines"] for run in tail] == [["last words"]]
    assert before == {}
    assert app.log() == [("stdout", "last words")]
