"""Runs an HTTP event: one request (plus up to MAX_REDIRECTS redirects) with httpx.

The destination goes through the SSRF guard first (and again for every
redirect), and the connection is made to the very address the guard vetted,
so a DNS answer that changes between check and connect cannot redirect the
request (see ssrf.py). Environment proxies and .netrc are ignored: a proxy
would do its own resolution and defeat the guard.

The log gets the request line, the response status line and headers
(credential-like values redacted), then the body on stdout. The request's
header values and body are never logged: they may carry secrets. The body is
streamed and kept only up to `http_body_max_bytes`; compressed bodies (gzip
and deflate, stacked or not) are inflated here with the same bound, never by
httpx, and other codings are refused, so a huge or "zip bomb" response never
sits in memory.
"""

from __future__ import annotations

import codecs
import functools
import json
import re
import ssl
import time
import zlib
from contextlib import aclosing
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx

from orchestrator_worker.control import JobControl
from orchestrator_worker.executors.base import run_within_timeout
from orchestrator_worker.executors.ssrf import Destination, DestinationRefused, check_destination
from orchestrator_worker.jobs import ClaimedJob, Outcome
from orchestrator_worker.logs import LogSink
from orchestrator_worker.settings import WorkerSettings

MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
REDACTED = "[redacted]"
USER_AGENT = "Cronium-HTTP-Event/1.0"

TransportFactory = Callable[[], httpx.AsyncBaseTransport]

_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_SECRET_WORDS = ("auth", "cookie", "token", "secret", "password", "passwd", "session", "signature", "key", "sig")
_NOT_SECRET = frozenset({"www-authenticate", "proxy-authenticate", "keep-alive"})


class _Failed(Exception):
    """Ends the request with a failed outcome; the message is safe to log."""


def looks_secret(name: str) -> bool:
    name = name.strip().lower()
    if name in _NOT_SECRET:
        return False
    return any(word in name for word in _SECRET_WORDS)


def display_url(url: httpx.URL | str) -> str:
    """The URL for the log: password and credential-like query values hidden."""
    try:
        parsed = httpx.URL(url) if isinstance(url, str) else url
    except httpx.InvalidURL:
        return "(invalid URL)"
    userinfo = ""
    if parsed.userinfo:
        userinfo = parsed.username + (":***" if parsed.password else "") + "@"
    path = parsed.raw_path.decode("ascii").split("?", 1)[0]
    text = f"{parsed.scheme}://{userinfo}{parsed.netloc.decode('ascii')}{path}"
    query = parsed.query.decode("ascii")
    if query:

        def hide(match: re.Match[str]) -> str:
            name = match.group(2)
            return f"{match.group(1)}{name}=***" if looks_secret(unquote(name)) else match.group(0)

        text += "?" + re.sub(r"(^|&)([^=&]*)=([^&]*)", hide, query)
    return text


def _check_headers(headers: dict[str, Any]) -> None:
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME_RE.match(name):
            raise _Failed(f"invalid request: {str(name)[:100]!r} is not a valid header name")
        if not isinstance(value, str) or any(c in value for c in "\r\n\x00"):
            raise _Failed(f"invalid request: the value of header {name!r} is not allowed")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise _Failed(f"invalid request: the value of header {name!r} has characters outside Latin-1") from None


@dataclass
class OutgoingRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: str | None
    redirects: list[str] = field(default_factory=list)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


def _next_request(request: OutgoingRequest, status: int, location: str) -> OutgoingRequest:
    """The request a redirect asks for (the rules browsers and httpx follow)."""
    current = httpx.URL(request.url)
    target = current.join(location).copy_with(fragment=None)
    method, body, headers = request.method, request.body, dict(request.headers)
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method, body = "GET", None
        headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
    if _origin(target) != _origin(current):
        # Credentials given for one site are not handed to another.
        headers = {k: v for k, v in headers.items() if k.lower() != "host" and not looks_secret(k)}
    return OutgoingRequest(method, str(target), headers, body, request.redirects + [request.url])


def _pinned_request(
    client: httpx.AsyncClient, dest: Destination, address: str, request: OutgoingRequest
) -> httpx.Request:
    """A request that connects to `address` but otherwise is the user's."""
    url = dest.url.copy_with(host=address)
    headers = httpx.Headers(request.headers)
    if "host" not in headers:
        headers["Host"] = dest.url.netloc.decode("ascii")
    if "user-agent" not in headers:
        headers["User-Agent"] = USER_AGENT
    if "accept-encoding" not in headers:
        # Only encodings inflated below with a bound.
        headers["Accept-Encoding"] = "gzip, deflate"
    extensions: dict[str, Any] = {}
    if dest.scheme == "https" and not dest.host_is_ip:
        # TLS: send the name as SNI and check the certificate against it.
        extensions["sni_hostname"] = dest.host
    content = request.body.encode("utf-8") if request.body is not None else None
    return client.build_request(request.method, url, headers=headers, content=content, extensions=extensions)


async def send_vetted(client: httpx.AsyncClient, dest: Destination, request: OutgoingRequest) -> httpx.Response:
    """Send to the first vetted address that accepts a connection."""
    error: httpx.ConnectError | None = None
    for address in dest.addresses:
        try:
            return await client.send(_pinned_request(client, dest, address, request), stream=True)
        except httpx.ConnectError as exc:  # nothing was sent: the next address may do
            error = exc
    assert error is not None
    raise error


# Content codings the worker inflates itself, with a bound (zlib's wbits:
# gzip also takes a zlib header; deflate is zlib, or raw as some servers send).
_INFLATE_WBITS = {"gzip": zlib.MAX_WBITS | 32, "x-gzip": zlib.MAX_WBITS | 32, "deflate": zlib.MAX_WBITS}
# More layers than this is no server's honest answer.
MAX_ENCODING_LAYERS = 4


def _content_codings(response: httpx.Response) -> list[str]:
    """The body's codings in the order they were applied (every
    Content-Encoding header, comma-separated lists included; identity
    dropped). Anything the worker cannot inflate with a bound is refused:
    httpx would decode br, zstd or a stack of codings without one."""
    codings = [
        coding
        for value in response.headers.get_list("content-encoding", split_commas=True)
        if (coding := value.strip().lower()) not in ("", "identity")
    ]
    unknown = sorted({coding for coding in codings if coding not in _INFLATE_WBITS})
    if unknown:
        raise _Failed(
            f"invalid response: Content-Encoding {', '.join(unknown)} is not supported (the worker decodes gzip and deflate)"
        )
    if len(codings) > MAX_ENCODING_LAYERS:
        raise _Failed(f"invalid response: {len(codings)} content encodings; at most {MAX_ENCODING_LAYERS} are decoded")
    return codings


class _InflateBudget:
    """Bytes all layers of a stacked encoding may produce together. The
    reader stops at the body cap, but an inner layer can inflate a lot that
    an outer one turns into next to nothing (empty deflate blocks): without
    a shared budget that is unbounded work."""

    def __init__(self, total: int, codings: list[str]):
        self.remaining = total
        self.total = total
        self.codings = codings

    def allowance(self, limit: int) -> int:
        """How much the next decompress call may produce (never 0: zlib reads 0 as no limit)."""
        if self.remaining <= 0:
            raise _Failed(
                f"invalid response: decoding the {', '.join(self.codings)} body took more than {self.total} bytes"
            )
        return min(limit, self.remaining)

    def spend(self, produced: int) -> None:
        self.remaining -= produced


async def _split(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        for start in range(0, len(chunk), limit):
            yield chunk[start : start + limit]


async def _inflate(source: AsyncIterator[bytes], coding: str, limit: int, budget: _InflateBudget) -> AsyncIterator[bytes]:
    """One coding undone, lazily: each chunk at most `limit` bytes, produced
    only when the next layer asks; stops at the end of the compressed stream."""
    inflater = zlib.decompressobj(_INFLATE_WBITS[coding])
    untried_raw_deflate = coding == "deflate"
    data = b""
    source_done = False
    async with aclosing(source):
        while not inflater.eof:
            if not data and not source_done:
                data = await anext(source, b"")
                source_done = not data
            try:
                out = inflater.decompress(data, budget.allowance(limit))
            except zlib.error as exc:
                if untried_raw_deflate:
                    inflater, untried_raw_deflate = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                raise _Failed(f"invalid response: the {coding} body cannot be decoded ({exc})") from None
            untried_raw_deflate = False
            budget.spend(len(out))
            data = inflater.unconsumed_tail
            if out:
                yield out
            elif source_done and not data:
                return  # a truncated stream: keep what was decoded


def _body_chunks(response: httpx.Response, limit: int) -> AsyncIterator[bytes]:
    """The decoded body, each chunk at most `limit` bytes, inflating lazily:
    the outermost coding (the last applied) is undone first, each layer
    bounded, and all of them within one budget."""
    codings = _content_codings(response)
    chunks = _split(response.aiter_raw(), limit)
    # Each layer may read a chunk ahead of what the next one needs.
    budget = _InflateBudget(2 * limit * len(codings), codings)
    for coding in reversed(codings):
        chunks = _inflate(chunks, coding, limit, budget)
    return chunks


def _charset(response: httpx.Response) -> str:
    charset = response.charset_encoding or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        return "utf-8"
    return charset


async def _read_body(response: httpx.Response, sink: LogSink, cap: int) -> tuple[str, int, bool]:
    """Stream the body to stdout, keeping at most `cap` bytes."""
    charset = _charset(response)
    decoder = codecs.getincrementaldecoder(charset)(errors="replace")
    kept = bytearray()
    received = 0
    truncated = False
    pending = ""
    async with aclosing(_body_chunks(response, cap + 1)) as chunks:
        async for chunk in chunks:
            received += len(chunk)
            room = cap - len(kept)
            piece = chunk[:room]
            kept += piece
            truncated = len(chunk) > room
            pending += decoder.decode(piece)
            *lines, pending = pending.split("\n")
            for line in lines:
                await sink.line("stdout", line.removesuffix("\r"))
            if truncated:
                break
    pending += decoder.decode(b"", final=True)
    if pending:
        await sink.line("stdout", pending)
    if truncated:
        await sink.system(f"[body truncated at {cap} bytes]")
    return bytes(kept).decode(charset, errors="replace"), received, truncated


def _response_headers(response: httpx.Response) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        value = REDACTED if looks_secret(name) else value
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


@functools.cache
def ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes tens of ms: once per process, not per request.
    # Honours SSL_CERT_FILE / SSL_CERT_DIR for a private CA.
    return httpx.create_ssl_context(trust_env=True)


def _describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def new_client(transport_factory: TransportFactory | None, timeout: float) -> httpx.AsyncClient:
    if transport_factory is not None:
        transport = transport_factory()
    else:
        transport = httpx.AsyncHTTPTransport(verify=ssl_context(), retries=0)
    # trust_env=False: no proxies (they would resolve names themselves) and no .netrc.
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False)


async def _exchange(
    job: ClaimedJob,
    sink: LogSink,
    settings: WorkerSettings,
    transport_factory: TransportFactory | None,
    started: float,
) -> Outcome:
    def metrics(**extra: Any) -> dict[str, Any]:
        return {"duration_ms": round((time.monotonic() - started) * 1000), **extra}

    spec = job.execution.get("http") or {}
    body = spec.get("body")
    request = OutgoingRequest(
        method=str(spec.get("method") or "GET").upper(),
        url=str(spec.get("url") or ""),
        headers=dict(spec.get("headers") or {}),
        body=body if body is None or isinstance(body, str) else json.dumps(body),
    )
    try:
        if not request.url:
            raise _Failed("invalid request: the event has no URL")
        _check_headers(request.headers)
        await sink.system(f"{request.method} {display_url(request.url)}")
        while True:
            try:
                dest = await check_destination(request.url, settings.http_allow_private)
            except DestinationRefused as exc:
                raise _Failed(f"refused: {exc}") from None
            # A fresh client per hop: a pooled connection (and its TLS session)
            # is never reused for another name that resolved to the same IP.
            async with new_client(transport_factory, job.timeout_s) as client:
                try:
                    response = await send_vetted(client, dest, request)
                except httpx.TimeoutException:
                    raise
                except httpx.LocalProtocolError:
                    # Its message may quote a header value: do not pass it on.
                    raise _Failed("invalid request: httpx refused to send it (bad header or body)") from None
                except httpx.TransportError as exc:
                    raise _Failed(f"connection failed: {dest.host}:{dest.port}: {_describe(exc)}") from None
                try:
                    status = response.status_code
                    await sink.system(f"{response.http_version} {status} {response.reason_phrase}".rstrip())
                    location = response.headers.get("location")
                    if status in REDIRECT_STATUSES and location:
                        if len(request.redirects) >= MAX_REDIRECTS:
                            raise _Failed(f"too many redirects (more than {MAX_REDIRECTS})")
                        try:
                            request = _next_request(request, status, location)
                        except httpx.InvalidURL as exc:
                            raise _Failed(f"invalid redirect location: {exc}") from None
                        await sink.system(f"redirected to {request.method} {display_url(request.url)}")
                        continue
                    headers = _response_headers(response)
                    for name, value in headers.items():
                        await sink.system(f"{name}: {value}")
                    try:
                        body, received, truncated = await _read_body(response, sink, settings.http_body_max_bytes)
                    except httpx.TimeoutException:
                        raise
                    except (httpx.TransportError, httpx.DecodingError) as exc:
                        raise _Failed(f"connection failed while reading the body: {_describe(exc)}") from None
                finally:
                    await response.aclose()
            ok = 200 <= status < 300
            error = None if ok else f"HTTP {status} {response.reason_phrase}".rstrip()
            if error:
                await sink.system(f"failed: {error}")
            return Outcome(
                status="completed" if ok else "failed",
                exit_code=None,
                error=error,
                output={"status": status, "headers": headers, "body": body},
                metrics=metrics(
                    http_status=status,
                    response_bytes=received,
                    body_truncated=truncated,
                    redirects=len(request.redirects),
                ),
            )
    except _Failed as exc:
        await sink.system(str(exc))
        return Outcome(status="failed", error=str(exc), metrics=metrics())
    except httpx.TimeoutException as exc:
        error = f"timed out after {job.timeout_s:g} s ({type(exc).__name__})"
        await sink.system(error)
        return Outcome(status="timed_out", error=error, metrics=metrics())


class HttpExecutor:
    """Runs HTTP events (see the module's docstring); nothing to clean up."""

    def __init__(self, settings: WorkerSettings, *, transport_factory: TransportFactory | None = None):
        self.settings = settings
        self.transport_factory = transport_factory  # for tests

    async def run(self, job: ClaimedJob, sink: LogSink, control: JobControl) -> Outcome:
        """The request to its outcome, or cut short by a stop or the job's timeout."""
        started = time.monotonic()
        work = _exchange(job, sink, self.settings, self.transport_factory, started)
        return await run_within_timeout(job, sink, control, work, started)

    async def cleanup(self, job: ClaimedJob) -> None:
        """Nothing outlives the request: each hop's client is closed with it."""

    async def aclose(self) -> None:
        """Nothing is kept across jobs."""
