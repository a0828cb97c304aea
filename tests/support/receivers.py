"""Local receivers for the tools' tests: an HTTP server that records every
request (standing in for Slack, Discord, Teams and webhooks) and an SMTP
server with STARTTLS and login (aiosmtpd), under a certificate for
"localhost" made here. Nothing leaves this machine."""

from __future__ import annotations

import datetime
import http.server
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.app_server import free_port


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpReceiver:
    """Records each request; answers 200 "ok", or the status a path was given."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.statuses: dict[str, int] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver._lock:
                    receiver.requests.append(Received(self.command, self.path, dict(self.headers.items()), body))
                status = receiver.statuses.get(self.path, 200)
                reply = b"ok" if status < 400 else b"invalid_payload"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_POST = do_PUT = do_PATCH = _handle  # noqa: N815 - http.server's naming

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def to(self, path: str) -> list[Received]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 60) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.to(path)) < count:
            assert time.monotonic() < deadline, f"{path} got {len(self.to(path))} requests, not {count}"
            time.sleep(0.1)
        return self.to(path)

    def __enter__(self) -> "HttpReceiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed_localhost(directory: Path) -> tuple[Path, Path]:
    """A certificate (and its key) for "localhost"; the certificate doubles
    as the CA file a client trusts (SSL_CERT_FILE)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "localhost.pem", directory / "localhost.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    user: str | None


@dataclass
class _Handler:
    messages: list[Mail] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
        user = session.auth_data.login.decode() if session.authenticated and session.auth_data else None
        self.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or b"",
                                  session.ssl is not None, user))
        return "250 OK queued"


class SmtpReceiver:
    """An SMTP server on localhost that requires STARTTLS and a login
    (user `cronium`, password given)."""

    def __init__(self, cert: Path, key: Path, password: str):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.handler = _Handler()
        self.port = free_port()

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"cronium" and \
                auth_data.password == password.encode()
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, tls_context=context, require_starttls=True,
            authenticator=authenticate, auth_require_tls=True, server_hostname="localhost",
        )

    @property
    def messages(self) -> list[Mail]:
        return self.handler.messages

    def wait_for(self, count: int = 1, timeout: float = 60) -> list[Mail]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} emails arrived, not {count}"
            time.sleep(0.1)
        return self.messages

    def __enter__(self) -> "SmtpReceiver":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
