"""The HTTP event executor, against a real HTTP server on 127.0.0.1 and, for
destinations that must never be contacted, an httpx MockTransport.

Traffic rule: these tests only ever connect to 127.0.0.0/8. A guard on
socket.connect fails any test that tries another address, names are answered
by a fake resolver (never real DNS), and "refused" cases also check that no
connection (or transport) was even attempted."""

from __future__ import annotations

import asyncio
import gzip
import http.server
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator_worker.control import JobControl, StopReason
from orchestrator_worker.executors.http import HttpExecutor, display_url
from orchestrator_worker.jobs import ClaimedJob, Outcome
from orchestrator_worker.settings import WorkerSettings
from tests.unit.test_ssrf import install_fake_dns

SECRET = "s3cr3t-t0ken-value"
BODY_SECRET = "top-secret-request-body"
BIG_BYTES = 5 * 1024 * 1024


# -- helpers -----------------------------------------------------------------


class FakeSink:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []

    async def line(self, stream: str, text: str) -> None:
        self.entries.append((stream, text))

    async def system(self, text: str) -> None:
        self.entries.append(("system", text))

    def stream(self, name: str) -> list[str]:
        return [text for stream, text in self.entries if stream == name]

    def text(self) -> str:
        return "\n".join(text for _, text in self.entries)


def make_job(url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: str | None = None, timeout: float = 10) -> ClaimedJob:
    return ClaimedJob(
        id="job-1",
        attempt=1,
        type="http",
        user_id=1,
        execution={
            "type": "http",
            "http": {"method": method, "url": url, "headers": headers or {}, "body": body},
            "timeoutSeconds": timeout,
        },
        input=None,
        log_seq_start=1,
    )


def make_settings(*, allow_private: bool, body_max: int = 64 * 1024) -> WorkerSettings:
    return WorkerSettings(ORCHESTRATOR_TOKEN="unit-test-token").model_copy(update={"http_allow_private": allow_private, "http_body_max_bytes": body_max})


def run(
    job: ClaimedJob,
    settings: WorkerSettings,
    *,
    cancel_after: float | None = None,
    stop_reason: str = StopReason.CANCELLED,
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
) -> tuple[Outcome, FakeSink, float]:
    sink = FakeSink()
    executor = HttpExecutor(settings, transport_factory=transport_factory)

    async def scenario() -> Outcome:
        control = JobControl()
        if cancel_after is not None:
            asyncio.get_running_loop().call_later(cancel_after, control.request_stop, stop_reason)
        return await executor.run(job, sink, control)  # type: ignore[arg-type]

    started = time.monotonic()
    outcome = asyncio.run(scenario())
    return outcome, sink, time.monotonic() - started


def no_transport() -> httpx.AsyncBaseTransport:
    raise AssertionError("a transport was created for a destination that must be refused")


@dataclass
class Recorder:
    """A MockTransport that answers from a table and records every request."""

    # "host/path" -> (status, headers, body)
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def factory(self) -> httpx.AsyncBaseTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            key = f"{request.headers['host']}{request.url.raw_path.decode()}"
            status, headers, body = self.routes.get(key, (404, {}, b"no route"))

            async def stream() -> AsyncIterator[bytes]:  # streamed, as from a real server
                yield body

            return httpx.Response(status, headers=headers, content=stream())

        return httpx.MockTransport(handle)


# -- the local server --------------------------------------------------------


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9)


def _empty_deflate_blocks(count: int) -> bytes:
    """A zlib stream of `count` empty stored blocks: it inflates to nothing."""
    return b"\x78\x9c" + b"\x00\x00\x00\xff\xff" * count + b"\x03\x00" + b"\x00\x00\x00\x01"


BOMB_BYTES = 50 * 1024 * 1024
# path -> (body, the Content-Encoding headers it is sent with)
ENCODED: dict[str, tuple[bytes, list[str]]] = {
    "/gzip-gzip": (_gzip(_gzip(b"two layers\n")), ["gzip, gzip"]),
    "/deflate-then-gzip": (_gzip(zlib.compress(b"deflate, then gzip\n")), ["deflate", "gzip"]),
    "/gzip-gzip-bomb": (_gzip(_gzip(b"A" * BOMB_BYTES)), ["gzip, gzip"]),
    "/gzip-twice-in-two-headers-bomb": (_gzip(_gzip(b"A" * BOMB_BYTES)), ["gzip", "gzip"]),
    "/empty-blocks-bomb": (_gzip(_empty_deflate_blocks(2_000_000)), ["deflate", "gzip"]),
    "/br": (b"\x0b\x02\x80hello\x03", ["br"]),
    "/gzip-br": (_gzip(b"\x0b\x02\x80hello\x03"), ["br, gzip"]),
    "/unknown": (b"whatever", ["x-mystery"]),
    "/five-layers": (_gzip(_gzip(_gzip(_gzip(_gzip(b"deep\n"))))), ["gzip, gzip, gzip, gzip, gzip"]),
    "/identity-gzip": (_gzip(b"plain after all\n"), ["identity", "gzip"]),
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "LocalServer"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_encoded(self, body: bytes, codings: list[str]) -> None:
        """Each coding in a Content-Encoding header of its own (a header
        value may also list several)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        for coding in codings:
            self.send_header("Content-Encoding", coding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path, dict(self.headers.items()), received))
        path = self.path.split("?", 1)[0]
        if path == "/ok":
            self._send(200, b"hello\r\nworld\n", {"X-Custom": "yes"})
        elif path == "/echo":
            self._send(201, f"got {len(received)} bytes".encode())
        elif path == "/error":
            self._send(500, b"boom")
        elif path == "/cookies":
            self._send(
                200,
                b"ok",
                {"Set-Cookie": "session=abc123; HttpOnly", "X-Auth-Token": "tok-999", "WWW-Authenticate": "Basic"},
            )
        elif path == "/latin1":
            self._send(200, "caf\u00e9".encode("latin-1"), {"Content-Type": "text/plain; charset=iso-8859-1"})
        elif path == "/garbage":
            self._send(200, b"ok \xff\xfe end\n", {"Content-Type": "application/octet-stream"})
        elif path == "/big":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(BIG_BYTES))
            self.end_headers()
            line = b"x" * 1023 + b"\n"
            for _ in range(BIG_BYTES // len(line)):
                self.wfile.write(line)
        elif path == "/gzip":
            self._send(200, gzip.compress(b"hello gzip\n"), {"Content-Encoding": "gzip"})
        elif path == "/gzip-bomb":
            self._send(200, gzip.compress(b"A" * (20 * 1024 * 1024), compresslevel=1), {"Content-Encoding": "gzip"})
        elif path in ENCODED:
            body, codings = ENCODED[path]
            self._send_encoded(body, codings)
        elif path == "/slow":
            self.server.release.wait(10)
            self._send(200, b"late")
        elif path == "/redirect":
            target = self.path.split("to=", 1)[1] if "to=" in self.path else "/ok"
            self._send(302, b"", {"Location": target})
        elif path == "/loop":
            self._send(302, b"", {"Location": "/loop"})
        elif path == "/see-other":
            self._send(303, b"", {"Location": "/echo"})
        else:
            self._send(404, b"not found")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class LocalServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.connections = 0
        self.release = threading.Event()
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.port = self.server_address[1]
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.connections += 1
        return True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up early (body cap, cancel) are expected

    def __enter__(self) -> "LocalServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()
        self._thread.join(5)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail any attempt to connect anywhere but 127.0.0.0/8; record attempts."""
    attempts: list[Any] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def allowed(address: Any) -> bool:
        attempts.append(address)
        if not isinstance(address, tuple):
            return True  # unix sockets
        try:
            return ipaddress.ip_address(address[0]) in ipaddress.ip_network("127.0.0.0/8")
        except ValueError:
            return False

    def connect(self: socket.socket, address: Any) -> None:
        if not allowed(address):
            raise AssertionError(f"test tried to connect to {address!r}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not allowed(address):
            raise AssertionError(f"test tried to connect to {address!r}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return attempts


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return install_fake_dns(
        monkeypatch,
        {
            "api.example.test": ["127.0.0.1"],
            "public.example.test": ["93.184.216.34"],
            "other.example.test": ["93.184.216.35"],
            "metadata.example.test": ["169.254.169.254"],
        },
    )


PRIVATE = make_settings(allow_private=True)
DEFAULT = make_settings(allow_private=False)


# -- success and failure -------------------------------------------------------


def test_200_completes_with_status_headers_and_body_in_log_and_result(server: LocalServer, loopback_only: list[Any]):
    outcome, sink, _ = run(make_job(f"{server.url}/ok"), PRIVATE)
    # The traffic guard sees the executor's connections (so it would stop a stray one).
    assert ("127.0.0.1", server.port) in loopback_only

    assert outcome.status == "completed"
    assert outcome.error is None and outcome.exit_code is None
    assert outcome.output["status"] == 200
    assert outcome.output["body"] == "hello\r\nworld\n"
    assert outcome.output["headers"]["x-custom"] == "yes"
    assert outcome.metrics["http_status"] == 200
    assert outcome.metrics["response_bytes"] == len(b"hello\r\nworld\n")
    assert outcome.metrics["body_truncated"] is False
    assert outcome.metrics["duration_ms"] >= 0
    system = sink.stream("system")
    assert system[0] == f"GET {server.url}/ok"
    assert "HTTP/1.1 200 OK" in system
    assert "x-custom: yes" in system
    assert sink.stream("stdout") == ["hello", "world"]
    # Order: request line, status, headers, then the body.
    assert sink.entries.index(("system", "HTTP/1.1 200 OK")) < sink.entries.index(("stdout", "hello"))


def test_500_fails_with_the_status_and_still_logs_the_body(server: LocalServer):
    outcome, sink, _ = run(make_job(f"{server.url}/error", method="POST"), PRIVATE)

    assert outcome.status == "failed"
    assert outcome.error == "HTTP 500 Internal Server Error"
    assert outcome.output["status"] == 500 and outcome.output["body"] == "boom"
    assert outcome.metrics["http_status"] == 500
    assert sink.stream("stdout") == ["boom"]
    assert "failed: HTTP 500 Internal Server Error" in sink.stream("system")


def test_404_is_a_failure(server: LocalServer):
    outcome, _, _ = run(make_job(f"{server.url}/missing"), PRIVATE)
    assert outcome.status == "failed" and outcome.error == "HTTP 404 Not Found"


def test_request_headers_and_body_are_sent_but_never_logged(server: LocalServer):
    job = make_job(
        f"{server.url}/echo?api_key={SECRET}&page=2",
        method="post",
        headers={"Authorization": f"Bearer {SECRET}", "X-Plain": SECRET, "Content-Type": "application/json"},
        body=f'{{"password": "{BODY_SECRET}"}}',
    )
    outcome, sink, _ = run(job, PRIVATE)

    assert outcome.status == "completed" and outcome.output["status"] == 201
    method, path, headers, received = server.seen[0]
    assert method == "POST"
    assert headers["Authorization"] == f"Bearer {SECRET}" and headers["X-Plain"] == SECRET
    assert received == f'{{"password": "{BODY_SECRET}"}}'.encode()
    assert path == f"/echo?api_key={SECRET}&page=2"
    logged = sink.text() + repr(outcome)
    assert SECRET not in logged
    assert BODY_SECRET not in logged
    assert f"POST {server.url}/echo?api_key=***&page=2" in sink.stream("system")


def test_credential_like_response_headers_are_redacted(server: LocalServer):
    outcome, sink, _ = run(make_job(f"{server.url}/cookies"), PRIVATE)

    assert outcome.status == "completed"
    headers = outcome.output["headers"]
    assert headers["set-cookie"] == "[redacted]"
    assert headers["x-auth-token"] == "[redacted]"
    assert headers["www-authenticate"] == "Basic"
    assert "abc123" not in sink.text() and "tok-999" not in sink.text()
    assert "set-cookie: [redacted]" in sink.stream("system")


def test_bodies_are_decoded_by_their_charset_and_garbage_is_replaced(server: LocalServer):
    outcome, sink, _ = run(make_job(f"{server.url}/latin1"), PRIVATE)
    assert outcome.output["body"] == "caf\u00e9" and sink.stream("stdout") == ["caf\u00e9"]

    outcome, sink, _ = run(make_job(f"{server.url}/garbage"), PRIVATE)
    assert outcome.status == "completed"
    assert sink.stream("stdout") == ["ok \ufffd\ufffd end"]


def test_gzip_bodies_are_inflated(server: LocalServer):
    outcome, sink, _ = run(make_job(f"{server.url}/gzip"), PRIVATE)
    assert outcome.output["body"] == "hello gzip\n"
    assert sink.stream("stdout") == ["hello gzip"]


# -- caps, timeouts, cancellation ---------------------------------------------------


def test_body_is_capped_and_reading_stops_at_the_cap(server: LocalServer):
    cap = 3000
    started = time.monotonic()
    outcome, sink, _ = run(make_job(f"{server.url}/big"), make_settings(allow_private=True, body_max=cap))

    assert outcome.status == "completed"
    assert len(outcome.output["body"].encode()) == cap
    assert outcome.metrics["body_truncated"] is True
    # Reading stopped at the chunk that crossed the cap, not at the end of 5 MB.
    assert cap < outcome.metrics["response_bytes"] < 200_000
    assert sink.stream("system")[-1] == f"[body truncated at {cap} bytes]"
    assert sum(len(line) + 1 for line in sink.stream("stdout")) <= cap + 1
    assert time.monotonic() - started < 5


def test_a_gzip_bomb_is_inflated_only_up_to_the_cap(server: LocalServer):
    cap = 10_000
    outcome, sink, _ = run(make_job(f"{server.url}/gzip-bomb"), make_settings(allow_private=True, body_max=cap))

    assert outcome.output["body"] == "A" * cap
    assert outcome.metrics["response_bytes"] <= cap + 1  # inflated no further than the cap
    assert f"[body truncated at {cap} bytes]" in sink.stream("system")


# -- stacked and unknown content encodings ------------------------------------------


@pytest.mark.parametrize(
    ("path", "text"),
    [("/gzip-gzip", "two layers"), ("/deflate-then-gzip", "deflate, then gzip"), ("/identity-gzip", "plain after all")],
)
def test_stacked_encodings_are_decoded_layer_by_layer(server: LocalServer, path: str, text: str):
    outcome, sink, _ = run(make_job(f"{server.url}{path}"), PRIVATE)
    assert outcome.status == "completed", outcome
    assert outcome.output["body"] == text + "\n"
    assert sink.stream("stdout") == [text]


@pytest.mark.parametrize("path", ["/gzip-gzip-bomb", "/gzip-twice-in-two-headers-bomb"])
def test_a_double_gzip_bomb_is_inflated_only_up_to_the_cap(server: LocalServer, path: str):
    cap = 10_000
    tracemalloc.start()
    try:
        outcome, sink, _ = run(make_job(f"{server.url}{path}"), make_settings(allow_private=True, body_max=cap))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert outcome.status == "completed", outcome
    assert outcome.output["body"] == "A" * cap
    assert outcome.metrics["response_bytes"] <= cap + 1
    assert f"[body truncated at {cap} bytes]" in sink.stream("system")
    assert peak < BOMB_BYTES // 10, f"{peak} bytes allocated at the peak"


def test_a_stack_that_inflates_to_nothing_stops_at_the_shared_budget(server: LocalServer):
    cap = 10_000
    outcome, sink, elapsed = run(make_job(f"{server.url}/empty-blocks-bomb"), make_settings(allow_private=True, body_max=cap))

    assert outcome.status == "failed"
    assert outcome.error == f"invalid response: decoding the deflate, gzip body took more than {4 * (cap + 1)} bytes"
    assert outcome.error in sink.stream("system")
    assert elapsed < 5


@pytest.mark.parametrize(("path", "named"), [("/br", "br"), ("/gzip-br", "br"), ("/unknown", "x-mystery")])
def test_an_encoding_the_worker_cannot_bound_is_refused(server: LocalServer, path: str, named: str):
    outcome, sink, _ = run(make_job(f"{server.url}{path}"), PRIVATE)

    assert outcome.status == "failed"
    assert outcome.error == (
        f"invalid response: Content-Encoding {named} is not supported (the worker decodes gzip and deflate)"
    )
    assert sink.stream("stdout") == []


def test_more_than_four_layers_are_refused(server: LocalServer):
    outcome, _sink, _ = run(make_job(f"{server.url}/five-layers"), PRIVATE)
    assert (outcome.status, outcome.error) == ("failed", "invalid response: 5 content encodings; at most 4 are decoded")


def test_timeout_ends_the_job_timed_out(server: LocalServer):
    outcome, sink, elapsed = run(make_job(f"{server.url}/slow", timeout=0.3), PRIVATE)

    assert outcome.status == "timed_out"
    assert outcome.error and "timed out after 0.3 s" in outcome.error
    assert 0.25 <= elapsed < 3
    assert any("timed out" in line for line in sink.stream("system"))


def test_cancel_ends_the_job_quickly(server: LocalServer):
    outcome, sink, elapsed = run(make_job(f"{server.url}/slow", timeout=30), PRIVATE, cancel_after=0.2)

    assert outcome.status == "cancelled"
    assert outcome.error == "cancelled by user"
    assert elapsed < 1.5
    assert sink.stream("system")[-1] == "cancelled by user"


def test_a_worker_shutdown_stops_the_request_and_says_so(server: LocalServer):
    outcome, _sink, elapsed = run(
        make_job(f"{server.url}/slow", timeout=30), PRIVATE, cancel_after=0.2, stop_reason=StopReason.SHUTDOWN
    )

    assert (outcome.status, outcome.error) == ("cancelled", "stopped: shutdown")
    assert elapsed < 1.5


def test_connection_refused_fails_clearly():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome, sink, _ = run(make_job(f"http://127.0.0.1:{port}/"), PRIVATE)

    assert outcome.status == "failed"
    assert outcome.error and outcome.error.startswith(f"connection failed: 127.0.0.1:{port}")
    assert outcome.error in sink.stream("system")


def test_invalid_header_values_fail_without_echoing_them(server: LocalServer):
    outcome, sink, _ = run(make_job(f"{server.url}/ok", headers={"X-Token": f"{SECRET}\r\nEvil: 1"}), PRIVATE)
    assert outcome.status == "failed" and "invalid request" in (outcome.error or "")
    assert SECRET not in sink.text() + repr(outcome)
    assert server.seen == []


# -- the SSRF guard ----------------------------------------------------------------


def test_loopback_is_refused_by_default_before_any_connection(server: LocalServer, loopback_only: list[Any]):
    outcome, sink, _ = run(make_job(f"{server.url}/ok"), DEFAULT)

    assert outcome.status == "failed"
    assert outcome.error and outcome.error.startswith("refused: 127.0.0.1 is a loopback address")
    assert outcome.error in sink.stream("system")
    assert server.connections == 0 and server.seen == []
    assert loopback_only == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://metadata.example.test/computeMetadata/v1/",
        "http://10.0.0.5:8080/admin",
        "http://192.168.1.1/",
        "http://[fe80::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://2130706433:9/",
        "http://api.example.test/",  # a name for 127.0.0.1
        "ftp://public.example.test/",
    ],
)
def test_non_public_destinations_are_refused_without_connecting(url: str, loopback_only: list[Any]):
    outcome, sink, _ = run(make_job(url), DEFAULT, transport_factory=no_transport)

    assert outcome.status == "failed"
    assert outcome.error and outcome.error.startswith("refused: ")
    assert outcome.error in sink.stream("system")
    assert loopback_only == []


def test_unresolvable_hosts_are_refused(loopback_only: list[Any]):
    outcome, _, _ = run(make_job("https://nowhere.example.invalid/"), PRIVATE, transport_factory=no_transport)
    assert outcome.status == "failed"
    assert outcome.error and outcome.error.startswith("refused: cannot resolve host 'nowhere.example.invalid'")
    assert loopback_only == []


def test_a_redirect_to_a_private_address_is_refused():
    recorder = Recorder(
        routes={
            "public.example.test/start": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
        }
    )
    outcome, sink, _ = run(make_job("http://public.example.test/start"), DEFAULT, transport_factory=recorder.factory)

    assert outcome.status == "failed"
    assert outcome.error and outcome.error.startswith("refused: 169.254.169.254 is a link-local address")
    assert [str(r.url) for r in recorder.requests] == ["http://93.184.216.34/start"]
    assert "HTTP/1.1 302 Found" in sink.stream("system")


def test_a_redirect_to_a_name_of_a_private_address_is_refused(server: LocalServer, loopback_only: list[Any]):
    recorder = Recorder(
        routes={"public.example.test/": (307, {"Location": f"http://api.example.test:{server.port}/ok"}, b"")}
    )
    outcome, _, _ = run(make_job("http://public.example.test/"), DEFAULT, transport_factory=recorder.factory)

    assert outcome.status == "failed" and "loopback" in (outcome.error or "")
    assert len(recorder.requests) == 1
    assert server.connections == 0 and loopback_only == []


def test_redirects_are_followed_and_rechecked(server: LocalServer):
    outcome, sink, _ = run(make_job(f"{server.url}/redirect?to=/ok"), PRIVATE)

    assert outcome.status == "completed" and outcome.output["body"] == "hello\r\nworld\n"
    assert outcome.metrics["redirects"] == 1
    assert f"redirected to GET {server.url}/ok" in sink.stream("system")
    assert [path for _, path, _, _ in server.seen] == ["/redirect?to=/ok", "/ok"]


def test_redirect_loops_stop_after_five(server: LocalServer):
    outcome, _, _ = run(make_job(f"{server.url}/loop"), PRIVATE)
    assert outcome.status == "failed" and outcome.error == "too many redirects (more than 5)"
    assert len(server.seen) == 6


def test_303_turns_a_post_into_a_get_without_the_body(server: LocalServer):
    outcome, _, _ = run(make_job(f"{server.url}/see-other", method="POST", body="payload"), PRIVATE)
    assert outcome.status == "completed" and outcome.output["body"] == "got 0 bytes"
    assert [(m, p, b) for m, p, _, b in server.seen] == [("POST", "/see-other", b"payload"), ("GET", "/echo", b"")]


def test_credentials_are_not_sent_to_another_origin_on_redirect():
    recorder = Recorder(
        routes={
            "public.example.test/": (302, {"Location": "https://other.example.test/next"}, b""),
            "other.example.test/next": (200, {}, b"fine"),
        }
    )
    job = make_job(
        "http://public.example.test/",
        headers={"Authorization": f"Bearer {SECRET}", "X-Api-Key": SECRET, "Accept": "text/plain"},
    )
    outcome, _, _ = run(job, DEFAULT, transport_factory=recorder.factory)

    assert outcome.status == "completed"
    first, second = recorder.requests
    assert first.headers["authorization"] == f"Bearer {SECRET}"
    assert "authorization" not in second.headers and "x-api-key" not in second.headers
    assert second.headers["accept"] == "text/plain"
    assert str(second.url) == "https://93.184.216.35/next"
    assert second.headers["host"] == "other.example.test"
    assert second.extensions["sni_hostname"] == "other.example.test"


# -- DNS rebinding: the vetted address is the one connected to ----------------------


def test_the_connection_goes_to_the_vetted_address_even_if_dns_changes(monkeypatch: pytest.MonkeyPatch):
    answers = iter([["93.184.216.34"], ["127.0.0.1"], ["127.0.0.1"]])
    lookups = install_fake_dns(monkeypatch, {"rebind.example.test": lambda: next(answers)})
    recorder = Recorder(routes={"rebind.example.test/": (200, {}, b"public")})

    outcome, _, _ = run(make_job("http://rebind.example.test/"), DEFAULT, transport_factory=recorder.factory)

    assert outcome.status == "completed"
    assert lookups == ["rebind.example.test"]  # one lookup, checked and used
    (request,) = recorder.requests
    assert request.url.host == "93.184.216.34"
    assert request.headers["host"] == "rebind.example.test"


def test_pinned_requests_keep_the_host_header_on_a_real_connection(server: LocalServer):
    outcome, _, _ = run(make_job(f"http://api.example.test:{server.port}/ok"), PRIVATE)

    assert outcome.status == "completed"
    assert server.seen[0][2]["Host"] == f"api.example.test:{server.port}"


def test_a_users_own_host_header_is_kept(server: LocalServer):
    outcome, _, _ = run(make_job(f"{server.url}/ok", headers={"Host": "vhost.example.test"}), PRIVATE)
    assert outcome.status == "completed" and server.seen[0][2]["Host"] == "vhost.example.test"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[LocalServer, Path, list[str]]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=api.example.test",
         "-addext", "subjectAltName=DNS:api.example.test"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    names: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,misc,func-returns-value]
    with LocalServer(tls=context) as srv:
        yield srv, cert, names


def test_tls_checks_the_certificate_against_the_name_not_the_pinned_ip(tls_server):
    server, cert, sni_names = tls_server
    trusting = lambda: httpx.AsyncHTTPTransport(verify=ssl.create_default_context(cafile=str(cert)))  # noqa: E731

    outcome, _, _ = run(make_job(f"https://api.example.test:{server.port}/ok"), PRIVATE, transport_factory=trusting)
    assert outcome.status == "completed", outcome.error
    assert sni_names == ["api.example.test"]

    # The same server by IP: the certificate does not name 127.0.0.1.
    outcome, _, _ = run(make_job(f"https://127.0.0.1:{server.port}/ok"), PRIVATE, transport_factory=trusting)
    assert outcome.status == "failed"
    assert outcome.error and outcome.error.startswith("connection failed") and "CERTIFICATE_VERIFY_FAILED" in outcome.error


def test_display_url_hides_passwords_and_secret_query_values():
    assert display_url("https://bob:hunter2@example.test/x?token=abc&q=1&Api-Key=z") == (
        "https://bob:***@example.test/x?token=***&q=1&Api-Key=***"
    )
    assert display_url("http://example.test") == "http://example.test/"
