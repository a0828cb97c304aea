"""A real OpenID Connect provider for the single sign-on tests
(oidc-provider-mock: authlib's provider in a Flask app): discovery, keys,
a sign-in page where the test picks the subject, the token endpoint. It
runs in a thread of the test session on a free port of 127.0.0.1.

Any client id and secret are accepted; a person's claims (email,
email_verified, groups) are set with `set_claims` before they sign in."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import oidc_provider_mock
import werkzeug.serving


@dataclass(frozen=True)
class Provider:
    issuer: str

    def set_claims(self, sub: str, **claims: Any) -> None:
        response = httpx.put(f"{self.issuer}/users/{sub}", json=claims, timeout=10)
        assert response.status_code == 204, response.text

    def authorize(self, authorize_url: str, sub: str) -> str:
        """Sign `sub` in on the provider's page; the URL it sends the browser back to."""
        assert authorize_url.startswith(f"{self.issuer}/"), authorize_url
        page = httpx.get(authorize_url, timeout=10)
        assert page.status_code == 200, page.text
        response = httpx.post(authorize_url, data={"sub": sub}, timeout=10)
        assert response.status_code == 302, response.text
        return response.headers["location"]

    def deny(self, authorize_url: str) -> str:
        response = httpx.post(authorize_url, data={"action": "deny"}, timeout=10)
        assert response.status_code == 302, response.text
        return response.headers["location"]


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@contextmanager
def running_provider() -> Iterator[Provider]:
    app = oidc_provider_mock.app(require_nonce=True)
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield Provider(issuer=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
