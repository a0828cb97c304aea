"""A job's log on its way to the app: bytes are split into lines, numbered,
capped, and sent in small ordered batches.

Containers write bytes; the app stores lines. Splitting is per stream with an
incremental UTF-8 decoder (a character cut between two reads is kept whole;
invalid bytes become U+FFFD). A line longer than the limit is cut into pieces,
each but the last ending with CONTINUED. NUL characters are replaced, since
PostgreSQL text cannot hold them. The worker's own (system) lines are cut
the same way: they may quote an exception.

A batch the app refuses as too large or invalid (413, 422: its own caps may
be smaller than the worker's) is that batch's problem, not the job's: it is
split until the lines the app refuses are found, and each of those is
replaced by a short note at its seq, so the log stays numbered without gaps
and the job's result is still reported. Only a refusal of the job itself
(409: it belongs to another attempt now; 404) ends the job's logging.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import NamedTuple

from orchestrator_worker import telemetry
from orchestrator_worker.client import OrchestratorClient, Refused
from orchestrator_worker.jobs import ClaimedJob
from orchestrator_worker.protocol import LogRun
from orchestrator_worker.settings import WorkerSettings

logger = logging.getLogger(__name__)

CONTINUED = " [line continues]"
# The app's answers that refuse a batch (its size, a line in it), not the job.
BATCH_REFUSALS = frozenset({413, 422})
REFUSED_LINE_NOTE = "[a log line was lost here: the app refused it ({status})]"
# The most lines the job's end may carry (see LogSink.close): a short job's
# whole log, one request for everything.
TAIL_MAX_LINES = 500
TAIL_MAX_BYTES = 256 * 1024


class LineSplitter:
    def __init__(self, max_chars: int):
        self.max_chars = max_chars
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""

    def feed(self, data: bytes) -> list[str]:
        text = self._partial + self._decoder.decode(data)
        *complete, self._partial = text.split("\n")
        if "\r" in text:
            complete = [line.removesuffix("\r") for line in complete]
        if "\x00" not in text and max(map(len, complete), default=0) <= self.max_chars:
            lines = complete  # the common case: nothing to clean or cut
        else:
            lines = [piece for line in complete for piece in self._cut(line)]
        # A line with no end in sight is sent in pieces rather than held.
        while len(self._partial) > self.max_chars:
            lines.append(_clean(self._partial[: self.max_chars]) + CONTINUED)
            self._partial = self._partial[self.max_chars :]
        return lines

    def flush(self) -> list[str]:
        rest = self._partial + self._decoder.decode(b"", final=True)
        self._partial = ""
        return self._cut(rest) if rest else []

    def _cut(self, line: str) -> list[str]:
        return cut_line(line, self.max_chars)


def cut_line(line: str, max_chars: int) -> list[str]:
    """One line as the pieces the log stores (each but the last ending with CONTINUED)."""
    line = _clean(line)
    if len(line) <= max_chars:
        return [line]
    pieces = [line[i : i + max_chars] for i in range(0, len(line), max_chars)]
    return [piece + CONTINUED for piece in pieces[:-1]] + [pieces[-1]]


def _clean(line: str) -> str:
    return line.replace("\x00", "\ufffd")


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class Line(NamedTuple):
    seq: int
    stream: str
    text: str
    timestamp: str


def as_runs(lines: list[Line]) -> list[LogRun]:
    """Lines (in seq order) as the wire's runs: consecutive lines of one
    stream stamped alike share one entry."""
    runs: list[LogRun] = []
    for line in lines:
        last = runs[-1] if runs else None
        if (
            last is not None
            and last["stream"] == line.stream
            and last["timestamp"] == line.timestamp
            and last["seq"] + len(last["lines"]) == line.seq
        ):
            last["lines"].append(line.text)
        else:
            runs.append(LogRun(seq=line.seq, stream=line.stream, timestamp=line.timestamp, lines=[line.text]))
    return runs


class LogSink:
    """Numbers lines, enforces the job's log cap, and delivers batches in
    order. Use `feed_from_thread` from a blocking reader thread and `line`
    from async code; `close` flushes everything and waits for delivery."""

    def __init__(
        self,
        job: ClaimedJob,
        client: OrchestratorClient,
        settings: WorkerSettings,
        *,
        on_cap: Callable[[], None] | None = None,
    ):
        self.job = job
        self.client = client
        self.settings = settings
        self.on_cap = on_cap
        self.next_seq = job.log_seq_start
        self.bytes_logged = 0
        self.truncated = False
        self.lost = False  # the app refused our batches: the job is not ours any more
        self._pending: list[Line] = []
        self._pending_bytes = 0
        self._splitters = {
            "stdout": LineSplitter(settings.log_line_max_chars),
            "stderr": LineSplitter(settings.log_line_max_chars),
        }
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._closed = False
        self._hold_tail = False
        self._tail: list[Line] = []
        self._closing = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._sender = asyncio.create_task(self._send_forever(), name=f"logs-{job.id}")

    # -- input -----------------------------------------------------------------

    async def line(self, stream: str, text: str) -> None:
        await self.lines(stream, cut_line(text, self.settings.log_line_max_chars))

    async def system(self, text: str) -> None:
        await self._append("system", cut_line(text, self.settings.log_line_max_chars), capped=False)

    async def lines(self, stream: str, lines: list[str]) -> None:
        await self._append(stream, lines, capped=True)

    def feed_from_thread(self, segments: list[tuple[str, bytes]]) -> None:
        """Called by a reader thread with output in order, as (stream, bytes)
        pieces; blocks it while the buffer is full. One hop to the event
        loop for all of them: a busy job's output comes in many small pieces."""
        found = [(stream, lines) for stream, data in segments if (lines := self._splitters[stream].feed(data))]
        if found:
            asyncio.run_coroutine_threadsafe(self._streams(found), self._loop).result()

    async def _streams(self, found: list[tuple[str, list[str]]]) -> None:
        for stream, lines in found:
            await self.lines(stream, lines)

    def end_of_stream_from_thread(self) -> None:
        for stream, splitter in self._splitters.items():
            rest = splitter.flush()
            if rest:
                asyncio.run_coroutine_threadsafe(self.lines(stream, rest), self._loop).result()

    async def _append(self, stream: str, lines: list[str], *, capped: bool) -> None:
        stamp = _now_iso()  # lines read together share their moment (and their run on the wire)
        for text in lines:
            size = (len(text) if text.isascii() else len(text.encode("utf-8", "replace"))) + 1
            if capped:
                if self.truncated:
                    return
                if self.bytes_logged + size > self.settings.log_max_bytes:
                    self.truncated = True
                    self._push(
                        "system",
                        f"log truncated: the job printed more than {self.settings.log_max_bytes} bytes; stopping it",
                        size,
                        stamp,
                    )
                    if self.on_cap is not None:
                        self.on_cap()
                    return
                self.bytes_logged += size
            self._push(stream, text, size, stamp)
            while self._pending_bytes > self.settings.log_buffer_max_bytes and not self.lost:
                self._room.clear()
                await self._room.wait()

    def _push(self, stream: str, text: str, size: int, stamp: str) -> None:
        self._pending.append(Line(self.next_seq, stream, text, stamp))
        self.next_seq += 1
        self._pending_bytes += size
        self._wake.set()

    # -- delivery --------------------------------------------------------------

    async def _send_forever(self) -> None:
        while True:
            await self._wake.wait()
            if not self._closed and len(self._pending) < self.settings.log_batch_max_lines:
                # Let a burst gather into one request; still well under 250 ms.
                # The end of the job cuts the wait short: its result waits
                # for the last lines to be stored.
                try:
                    await asyncio.wait_for(self._closing.wait(), self.settings.log_flush_interval_s)
                except asyncio.TimeoutError:
                    pass
            self._wake.clear()
            if self._closed and self._hold_tail and self._is_tail(self._pending):
                return  # the job's end carries these (see close)
            while self._pending and not self.lost:
                batch = self._pending[: self.settings.log_batch_max_lines]
                try:
                    await self._deliver(batch)
                except Refused as exc:
                    logger.warning("logs refused for job %s: %s", self.job.id, exc, extra={"job_id": self.job.id})
                    self.lost = True
                    break
                del self._pending[: len(batch)]
                self._pending_bytes = sum(len(item.text) + 1 for item in self._pending)
                self._room.set()
            if self.lost:
                self._pending.clear()
                self._room.set()
            if self._closed and not self._pending:
                return

    async def _deliver(self, batch: list[Line], *, note: bool = False) -> None:
        """Send one batch; see the module's docstring for a refused one.
        Raises Refused only when the app refuses the job itself."""
        try:
            await self.client.logs(self.job.id, self.job.attempt, as_runs(batch))
            telemetry.LOG_LINES_SENT.inc(len(batch))
        except Refused as exc:
            if exc.status_code not in BATCH_REFUSALS:
                raise
            if len(batch) > 1:
                half = len(batch) // 2
                await self._deliver(batch[:half], note=note)
                await self._deliver(batch[half:], note=note)
                return
            [refused] = batch
            extra = {"job_id": self.job.id}
            logger.warning("job %s: the app refused log line %d (%s); it is lost", self.job.id, refused.seq, exc, extra=extra)
            if not note:  # a refused note is dropped: nothing smaller to say
                text = REFUSED_LINE_NOTE.format(status=exc.status_code)
                await self._deliver([refused._replace(stream="system", text=text)], note=True)

    async def close(self, *, hold_tail: bool = False) -> list[LogRun]:
        """Flush and wait for delivery. With `hold_tail`, lines still waiting
        when the job ended (a few: a short job's whole log) are not sent but
        returned, for the job's end to carry in the same request; when the
        app refuses them there, `deliver_tail` sends them the usual way."""
        self._closed = True
        self._hold_tail = hold_tail
        self._closing.set()
        self._wake.set()
        await self._sender
        tail, self._pending = self._pending, []
        self._tail = tail
        return as_runs(tail) if tail and not self.lost else []

    async def deliver_tail(self) -> None:
        """Send the held tail as ordinary batches (after the app refused it
        as part of the job's end)."""
        tail, self._tail = self._tail, []
        for start in range(0, len(tail), self.settings.log_batch_max_lines):
            if self.lost:
                return
            try:
                await self._deliver(tail[start : start + self.settings.log_batch_max_lines])
            except Refused as exc:
                logger.warning("logs refused for job %s: %s", self.job.id, exc, extra={"job_id": self.job.id})
                self.lost = True

    @staticmethod
    def _is_tail(lines: list[Line]) -> bool:
        return len(lines) <= TAIL_MAX_LINES and sum(len(line.text) for line in lines) <= TAIL_MAX_BYTES
