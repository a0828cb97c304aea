"""Cronium's benchmark harness (`python -m bench.run`, `make bench`).

Each suite module (bench/foundation.py, worker.py, scheduler.py, ui.py,
runtime.py, remote.py) has `run(suite)`, which puts its figures into the
`bench.suite.Suite` it is given, and `BASELINES` (figure -> the figure it is
compared with); bench/run.py registers the suites and runs them. This package
holds the pieces the suites draw on: the run options, the error a failed
check raises, the databases to measure on, a fresh migrated database, the
real app started on it, a small concurrent HTTP load driver, percentiles, and
the app's CPU time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa

from tests.support.app_server import AppServer
from tests.support.databases import migrated_database

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres"
# The labels of the databases a suite may measure on, as in the figure names.
DATABASE_LABELS = ("sqlite", "postgres")


@dataclass(frozen=True)
class Options:
    """What `python -m bench.run` was asked for; a suite reads it as `suite.options`."""

    quick: bool = False
    client: str = "raw"  # load client: "raw" or "httpx" (see CLIENTS)

    def pick(self, full: int, quick: int) -> int:
        """A size: `full` normally, `quick` under --quick."""
        return quick if self.quick else full


class SuiteFailed(Exception):
    """A correctness check failed (or the suite cannot run). The figures the
    suite measured before it are still recorded; the run exits non-zero."""


# -- databases ---------------------------------------------------------------


def postgres_url() -> str:
    """BENCH_POSTGRES_URL, else DATABASE_URL when it names PostgreSQL, else the local default."""
    database_url = os.environ.get("DATABASE_URL", "")
    return (
        os.environ.get("BENCH_POSTGRES_URL")
        or (database_url if database_url.startswith("postgresql") else "")
        or DEFAULT_POSTGRES_URL
    )


def postgres_unreachable_reason(url: str, timeout_s: int = 3) -> str | None:
    """None when a connection succeeds, else why it did not."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": timeout_s}, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return None
    except Exception as exc:  # any failure means "skip PostgreSQL"
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Database:
    """Where to create the databases to measure on: a PostgreSQL server, or
    temporary SQLite files. `label` goes into figure names."""

    label: str  # one of DATABASE_LABELS
    base_url: str  # SQLite: "sqlite://" (each fresh database is a file in a temporary folder); PostgreSQL: the server


# Suites that measure the app itself rather than the database run on SQLite only.
SQLITE = Database("sqlite", "sqlite://")


def databases(note: Callable[[str], None] = print) -> list[Database]:
    """SQLite always; PostgreSQL when a connection succeeds (else a note)."""
    found = [Database("sqlite", "sqlite://")]
    url = postgres_url()
    reason = postgres_unreachable_reason(url)
    if reason is None:
        found.append(Database("postgres", url))
    else:
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        note(f"note: PostgreSQL at {shown} is unreachable ({reason}); skipping its figures. "
             "Set BENCH_POSTGRES_URL to measure another server.")
    return found


@contextlib.contextmanager
def fresh_database(db: Database, prefix: str = "cronium_bench") -> Iterator[str]:
    """A new, migrated database on `db` (removed afterwards); yields its URL.

    tests/support/databases.py picks the server from DATABASE_URL, so point it
    there for the moment of creation only."""
    with contextlib.ExitStack() as stack:
        saved = os.environ.get("DATABASE_URL")
        os.environ["DATABASE_URL"] = db.base_url
        try:
            url = stack.enter_context(migrated_database(prefix))
        finally:
            if saved is None:
                os.environ.pop("DATABASE_URL", None)
            else:
                os.environ["DATABASE_URL"] = saved
        yield url


@contextlib.contextmanager
def running_app(database_url: str, **env: str) -> Iterator[AppServer]:
    """The real app on a free port; stopped on the way out, whatever happens."""
    server = AppServer(database_url, env_overrides=dict(env))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def fresh_app(db: Database, prefix: str = "cronium_bench", **env: str) -> Iterator[AppServer]:
    """The real app (with `env`) on a new, migrated database on `db`; both gone afterwards."""
    with fresh_database(db, prefix) as url, running_app(url, **env) as server:
        yield server


# -- load ----------------------------------------------------------------------
#
# Each concurrent caller owns one keep-alive connection and sends its next
# request as soon as the last one is answered. Two client implementations:
#
# - "raw" (default): HTTP/1.1 written on an asyncio stream. It costs ~0.05 ms
#   of CPU per request, so on a small machine the figures measure the app.
# - "httpx": one httpx.AsyncClient per caller. It costs 1.5-4 ms of CPU per
#   request here (more than the app spends on /ping), so it shares the CPU
#   with the app and flattens the ratios; kept for comparison.


@dataclass
class Reply:
    """What a load request got back (the subset of httpx.Response we use)."""

    method: str
    path: str
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class RawHttp:
    """One keep-alive HTTP/1.1 connection. After an answer that ends the
    connection (`Connection: close`, or a body read to its end) the next
    request opens a new one; a kept-alive connection the server closed while
    idle is replaced once (see request); any other drop fails the request."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None):
        url = httpx.URL(base_url)
        self.host, self.port = url.host, url.port or 80
        self.headers = {"Host": f"{self.host}:{self.port}", "Accept": "application/json", **(headers or {})}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json_body: Any = None
    ) -> Reply:
        target = path + ("?" + urlencode(params) if params else "")
        body = b"" if json_body is None else json.dumps(json_body).encode()
        lines = [f"{method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in self.headers.items())]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
            if body:
                lines.append("Content-Type: application/json")
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        reused = self._writer is not None
        try:
            head = await self._send(payload)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            # The server closed the idle kept-alive connection before this
            # request reached it (nothing came back): send it once more on
            # a new one, as HTTP clients do with a stale pooled connection.
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            await self.aclose()
            head = await self._send(payload)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        fields = {}
        for line in header_lines:
            if ":" in line:
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
        if "content-length" in fields:
            content = await self._reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            content = await self._read_chunked()
        else:
            content = await self._reader.read()
            fields["connection"] = "close"
        if fields.get("connection", "").lower() == "close":
            await self.aclose()
        return Reply(method, path, status, content)

    async def _send(self, payload: bytes) -> bytes:
        """Write the request; the reply's head."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        self._writer.write(payload)
        await self._writer.drain()
        return await self._reader.readuntil(b"\r\n\r\n")

    async def _read_chunked(self) -> bytes:
        assert self._reader is not None
        parts = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")  # no trailers expected
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    async def aclose(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class HttpxHttp:
    """The same interface over one httpx.AsyncClient with a single connection."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None):
        self.client = httpx.AsyncClient(
            base_url=base_url,
            headers=headers or {},
            timeout=60,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json_body: Any = None
    ) -> Reply:
        response = await self.client.request(method, path, params=params, json=json_body)
        return Reply(method, path, response.status_code, response.content)

    async def aclose(self) -> None:
        await self.client.aclose()


CLIENTS = {"raw": RawHttp, "httpx": HttpxHttp}


def open_callers(options: Options, base_url: str, count: int, headers: dict[str, str] | None = None,
                 ids: list[dict[str, str]] | None = None) -> list[RawHttp | HttpxHttp]:
    """`count` callers of the kind `options.client` names. `ids` adds
    per-caller headers (e.g. each worker's X-Worker-Id)."""
    kind = CLIENTS[options.client]
    return [kind(base_url, {**(headers or {}), **(ids[i] if ids else {})}) for i in range(count)]


async def close_all(callers: list[RawHttp | HttpxHttp]) -> None:
    await asyncio.gather(*(c.aclose() for c in callers), return_exceptions=True)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100.0 * len(ordered))))
    return ordered[rank - 1]


def p50(values: list[float]) -> float:
    """The nearest-rank median: always one of the values."""
    return percentile(values, 50)


@dataclass
class LoadResult:
    requests: int
    elapsed_s: float
    latencies_s: list[float] = field(default_factory=list)
    app_cpu_s: float | None = None  # CPU the app's processes used meanwhile

    @property
    def rate_per_s(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def p(self, pct: float) -> float:
        """Latency percentile in milliseconds."""
        return percentile(self.latencies_s, pct) * 1000.0 if self.latencies_s else 0.0

    def app_cpu_ms_per(self, items: int | None = None) -> float | None:
        """App CPU per request (or per item, e.g. per claimed job), in ms."""
        n = self.requests if items is None else items
        return None if self.app_cpu_s is None or not n else self.app_cpu_s * 1000.0 / n


Send = Callable[[Any], Awaitable[Reply]]


async def hammer(
    callers: list[RawHttp | HttpxHttp],
    total: int | None,
    send: Send,
    check: Callable[[Reply], Any] | None = None,
    app: AppServer | None = None,
) -> LoadResult:
    """Send `total` requests spread over the callers, all of them busy at once.
    With total=None, each caller goes on until `check` returns False (e.g. "the
    queue is empty"). `check` sees every reply; an exception it raises comes
    out of hammer(). With `app`, also measures the app's CPU time meanwhile."""
    remaining = total
    latencies: list[float] = []

    async def caller(http) -> None:
        nonlocal remaining
        while remaining is None or remaining > 0:
            if remaining is not None:
                remaining -= 1
            began = time.perf_counter()
            reply = await send(http)
            latencies.append(time.perf_counter() - began)
            if check is not None and check(reply) is False:
                return

    cpu_before = app_cpu_seconds(app) if app else None
    began = time.perf_counter()
    await asyncio.gather(*(caller(http) for http in callers))
    elapsed = time.perf_counter() - began
    cpu_after = app_cpu_seconds(app) if app else None
    app_cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    return LoadResult(requests=len(latencies), elapsed_s=elapsed, latencies_s=latencies, app_cpu_s=app_cpu)


def expect_status(*codes: int) -> Callable[[Reply], None]:
    def check(reply: Reply) -> None:
        if reply.status_code not in codes:
            raise AssertionError(f"{reply.method} {reply.path} -> {reply.status_code}: {reply.text[:300]}")

    return check


def app_cpu_seconds(app: AppServer) -> float | None:
    """User+system CPU so far of every live process in the app's session
    (AppServer starts it in a session of its own), from /proc; None without
    /proc or before the app started. A process that has ended no longer counts."""
    if app.process is None or not os.path.isdir("/proc"):
        return None
    session = app.process.pid
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[3]) == session:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total
