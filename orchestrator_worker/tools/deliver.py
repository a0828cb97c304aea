"""Sending what a tool's fields rendered to: the documented payload of each
service, through the same address guard as HTTP events (ssrf.py) plus the
operator's allow-list, and a short account of the request and the reply.

- Slack incoming webhook: POST JSON `{"text": ...}`.
- Discord webhook: POST JSON `{"content": ..., "allowed_mentions": {"parse": []}}`
  (at most 2000 characters; nobody is pinged by a log line that says @everyone).
- Microsoft Teams (a Workflows or incoming webhook): POST JSON
  `{"type": "message", "attachments": [{"contentType":
  "application/vnd.microsoft.card.adaptive", "content": {an AdaptiveCard with
  one wrapping TextBlock}}]}`.
- Webhook: the tool's method, headers and content type, the rendered body;
  with a signing secret, `X-Cronium-Timestamp: <unix seconds>` and
  `X-Cronium-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`.
  Every call names itself in `X-Cronium-Delivery` (the job's id).
- Email: SMTP with STARTTLS (required, not opportunistic), TLS from the
  first byte, or neither (no login then); the certificate is checked
  against the host name; text/plain UTF-8.

A hook URL is a credential (whoever has it can post): the account shows
its scheme and host only. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import email.policy
import email.utils
import functools
import hashlib
import hmac
import json
import socket
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx

from orchestrator_worker.executors.http import OutgoingRequest, new_client, send_vetted
from orchestrator_worker.executors.ssrf import AllowList, DestinationRefused, check_destination, vet_host
from orchestrator_worker.tools.kinds import DISCORD, EMAIL, EMAIL_MAX_RECIPIENTS, KIND_TABLE, SLACK, TEAMS, WEBHOOK

USER_AGENT = "Cronium-Tool/1.0"
REPLY_KEEP_BYTES = 4096
REPLY_SHOWN_CHARS = 500
SIGNATURE_HEADER = "X-Cronium-Signature"
TIMESTAMP_HEADER = "X-Cronium-Timestamp"
DELIVERY_HEADER = "X-Cronium-Delivery"


@dataclass
class Delivered:
    """How a delivery went: `lines` for the job's log, `output` for its result."""

    ok: bool
    lines: list[str] = field(default_factory=list)
    output: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class _Failed(Exception):
    """The delivery cannot go on; the message is safe to log."""


def shown_url(url: str) -> str:
    """A hook URL for the log: scheme and host, never the path that is its secret."""
    try:
        parsed = httpx.URL(url)
        return f"{parsed.scheme}://{parsed.netloc.decode('ascii')}/…"
    except (httpx.InvalidURL, UnicodeDecodeError):
        return "(invalid URL)"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def chat_payload(kind: str, text: str) -> dict[str, Any]:
    """The JSON each chat service documents for its incoming webhooks."""
    text = _cut(text, KIND_TABLE[kind].text_max)
    if kind == SLACK:
        return {"text": text}
    if kind == DISCORD:
        return {"content": text, "allowed_mentions": {"parse": []}}
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [{"type": "TextBlock", "text": text, "wrap": True}],
    }
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}],
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_line(text: str, limit: int = REPLY_SHOWN_CHARS) -> str:
    flat = " ".join(text.split())
    return _cut(flat, limit)


async def deliver(
    login: dict[str, Any], fields: dict[str, str], *, delivery_id: str, allow: AllowList, timeout: float
) -> Delivered:
    """Send `fields` through the tool `login` describes (kind, config, opened secrets)."""
    kind = login.get("kind")
    try:
        if login.get("error"):
            raise _Failed(login["error"])
        if kind in (SLACK, DISCORD, TEAMS):
            body = json.dumps(chat_payload(kind, fields.get("text", ""))).encode("utf-8")
            what = f"{KIND_TABLE[kind].label} message"
            return await _post(login, "POST", {"Content-Type": "application/json"}, body, what, delivery_id, allow, timeout)
        if kind == WEBHOOK:
            config, secrets = login.get("config") or {}, login.get("secrets") or {}
            headers = {"Content-Type": config.get("contentType") or "application/json", **(secrets.get("headers") or {})}
            body = fields.get("body", "").encode("utf-8")
            if secrets.get("signingSecret"):
                stamp = str(int(time.time()))
                headers[TIMESTAMP_HEADER] = stamp
                headers[SIGNATURE_HEADER] = signature(secrets["signingSecret"], stamp, body)
            method = config.get("method") or "POST"
            return await _post(login, method, headers, body, "webhook call", delivery_id, allow, timeout)
        if kind == EMAIL:
            return await _send_email(login, fields, allow, timeout)
        raise _Failed(f"unknown kind of tool: {kind!r}")
    except _Failed as exc:
        return Delivered(ok=False, lines=[str(exc)], error=str(exc))


async def _post(
    login: dict[str, Any], method: str, headers: dict[str, str], body: bytes, what: str, delivery_id: str,
    allow: AllowList, timeout: float,
) -> Delivered:
    url = (login.get("secrets") or {}).get("url") or ""
    lines = [f"{what}: {method} {shown_url(url)} ({len(body)} bytes"
             + (", signed" if SIGNATURE_HEADER in headers else "") + ")"]
    try:
        dest = await check_destination(url, False, allow)
    except DestinationRefused as exc:
        raise _Failed(f"refused: {exc}") from None
    headers = {**headers, "User-Agent": USER_AGENT, "Accept-Encoding": "identity", DELIVERY_HEADER: delivery_id}
    request = OutgoingRequest(method=method, url=url, headers=headers, body=body.decode("utf-8"))
    async with new_client(None, timeout) as client:
        try:
            response = await send_vetted(client, dest, request)
        except httpx.TimeoutException:
            raise _Failed(f"no answer from {dest.host}:{dest.port} within {timeout:g} s") from None
        except httpx.LocalProtocolError:
            raise _Failed("invalid request: a header name or value cannot be sent") from None
        except httpx.TransportError as exc:
            raise _Failed(f"connection failed: {dest.host}:{dest.port}: {exc or type(exc).__name__}") from None
        try:
            reply = await _reply_text(response)
        finally:
            await response.aclose()
    status = response.status_code
    lines.append(f"{response.http_version} {status} {response.reason_phrase}".rstrip())
    if reply:
        lines.append(f"reply: {_one_line(reply)}")
    output = {"status": status, "reply": _cut(reply, REPLY_SHOWN_CHARS)}
    if 200 <= status < 300:
        return Delivered(ok=True, lines=lines, output=output)
    error = f"the receiver answered HTTP {status} {response.reason_phrase}".rstrip()
    if 300 <= status < 400:
        error += " (a redirect: tools do not follow redirects)"
    return Delivered(ok=False, lines=[*lines, error], output=output, error=error)


async def _reply_text(response: httpx.Response) -> str:
    kept = bytearray()
    try:
        async for chunk in response.aiter_raw():
            kept += chunk[: REPLY_KEEP_BYTES - len(kept)]
            if len(kept) >= REPLY_KEEP_BYTES:
                break
    except httpx.HTTPError:
        pass  # the status is what counts; a reply cut short is still a reply
    return kept.decode("utf-8", errors="replace")


# -- email ------------------------------------------------------------------------


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # The system's CAs, or SSL_CERT_FILE / SSL_CERT_DIR for a private CA.
    return ssl.create_default_context()


def recipients(text: str) -> list[str]:
    """The addresses in a rendered To field (commas or semicolons between)."""
    found = [address.strip() for _, address in email.utils.getaddresses([text.replace(";", ",")]) if address.strip()]
    bad = [a for a in found if "@" not in a or any(c.isspace() or c in "<>\r\n" for c in a)]
    if bad:
        raise _Failed(f"not an email address: {bad[0][:100]!r}")
    if not found:
        raise _Failed("no recipient: the To field rendered to nothing")
    if len(found) > EMAIL_MAX_RECIPIENTS:
        raise _Failed(f"at most {EMAIL_MAX_RECIPIENTS} recipients; the To field has {len(found)}")
    return list(dict.fromkeys(found))


def email_message(sender: str, to: list[str], subject: str, body: str) -> EmailMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    try:
        message["From"] = sender
        message["To"] = ", ".join(to)
        message["Subject"] = _one_line(subject, 500)
    except (ValueError, TypeError) as exc:
        raise _Failed(f"invalid email header: {exc}") from None
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body)
    return message


async def _connect(host: str, port: int, addresses: tuple[str, ...], timeout: float) -> socket.socket:
    """A connected socket to the first vetted address that answers."""
    loop = asyncio.get_running_loop()
    problem: Exception | None = None
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (address, port)), timeout)
            return sock
        except (OSError, asyncio.TimeoutError) as exc:
            sock.close()
            problem = exc
    raise _Failed(f"connection failed: {host}:{port}: {problem or 'no address'}")


async def _send_email(login: dict[str, Any], fields: dict[str, str], allow: AllowList, timeout: float) -> Delivered:
    config, secrets = login.get("config") or {}, login.get("secrets") or {}
    host, port, security = config.get("host") or "", int(config.get("port") or 587), config.get("security") or "starttls"
    to = recipients(fields.get("to", ""))
    message = email_message(config.get("fromAddress") or "", to, fields.get("subject", ""), fields.get("body", ""))
    label = {"starttls": "STARTTLS", "tls": "TLS", "none": "no encryption"}.get(security, security)
    lines = [f"email to {', '.join(to)} via {host}:{port} ({label}): {message['Subject']}"]
    if config.get("username") and security == "none":
        raise _Failed("a password is never sent over an unencrypted connection: use STARTTLS or TLS")
    try:
        addresses = await vet_host(host, port, False, allow)
    except DestinationRefused as exc:
        raise _Failed(f"refused: {exc}") from None
    sock = await _connect(host, port, addresses, timeout)
    client = aiosmtplib.SMTP(  # only stores its arguments: nothing here can leave `sock` open
        hostname=host, sock=sock, use_tls=security == "tls", start_tls=security == "starttls",
        tls_context=_tls_context(), timeout=timeout, local_hostname="cronium.localdomain",
    )
    # From connect() on, the transport owns the socket and closes it (after
    # quit() too, when client.transport is already None): closing it here
    # as well would free its fd under a transport still shutting down TLS.
    try:
        await client.connect()
        if config.get("username"):
            await client.login(config["username"], secrets.get("password") or "")
        refused, reply = await client.send_message(message)
        await client.quit()
    except aiosmtplib.SMTPException as exc:
        raise _Failed(f"SMTP: {_one_line(str(exc))}") from None
    except (OSError, ssl.SSLError, asyncio.TimeoutError) as exc:
        raise _Failed(f"SMTP connection failed: {host}:{port}: {exc or type(exc).__name__}") from None
    finally:
        client.close()
    lines.append(f"server: {_one_line(reply)}")
    accepted = [address for address in to if address not in refused]
    output = {"accepted": accepted, "refused": {k: str(v) for k, v in refused.items()}, "reply": _one_line(reply)}
    if refused:
        error = f"the server refused {', '.join(refused)}"
        return Delivered(ok=False, lines=[*lines, error], output=output, error=error)
    return Delivered(ok=True, lines=lines, output=output)
