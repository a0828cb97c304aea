"""Talking to the OpenID Connect provider (single sign-on): its discovery
document and keys (cached), the authorization URL, the code exchange, and
the ID token's verification.

authlib gives the protocol's pieces (PKCE's S256 challenge, the ID token's
claim rules in `CodeIDToken`, its JOSE library joserfc for signatures); the
HTTP calls are plain httpx here, since authlib's httpx client is deprecated
in favour of a second HTTP stack (httpx2) this project does not carry.

Nothing here knows about accounts (auth/oidc_accounts.py) or the browser's
flow (auth/oidc.py). Every failure is a `ProviderFailed` with a reason the
flow turns into words; the client secret and the tokens are never in one.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from cronium_app.settings import Settings

logger = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
# How long discovery and keys are trusted before they are read again; keys
# are also read again at once when a token names a key not seen yet.
CACHE_SECONDS = 3600.0
HTTP_TIMEOUT_S = 10.0
# Bounds on what the provider sends (a discovery document, keys, a token
# response are a few kilobytes).
MAX_RESPONSE_BYTES = 512 * 1024
MAX_ID_TOKEN_CHARS = 16 * 1024
# Clock skew allowed between this server and the provider.
LEEWAY_S = 60
# Signatures made with the provider's private key only: never "none", nor
# HMAC (whose key would be the client secret).
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]


class ProviderFailed(Exception):
    """The provider could not be used or its answer not trusted. `reason`:
    unreachable (no usable answer) or token (the ID token failed a check)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass
class _Cached:
    value: Any
    until: float


_metadata: dict[str, _Cached] = {}
_keys: dict[str, _Cached] = {}


def _fresh(cache: dict[str, _Cached], key: str) -> Any | None:
    entry = cache.get(key)
    return entry.value if entry is not None and entry.until > time.monotonic() else None


async def _get_json(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """A JSON object from `url`, read up to MAX_RESPONSE_BYTES."""
    try:
        async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
            body = await _bounded_body(response)
    except httpx.HTTPError as exc:
        raise ProviderFailed("unreachable", f"GET {url}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise ProviderFailed("unreachable", f"GET {url} answered {response.status_code}")
    return _json_object(body, url)


async def _bounded_body(response: httpx.Response) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_RESPONSE_BYTES:
            raise ProviderFailed("unreachable", f"{response.request.url} sent more than {MAX_RESPONSE_BYTES} bytes")
    return bytes(body)


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        raise ProviderFailed("unreachable", f"{what} did not answer JSON") from None
    if not isinstance(value, dict):
        raise ProviderFailed("unreachable", f"{what} did not answer a JSON object")
    return value


def _client() -> httpx.AsyncClient:
    # Redirects are not followed: every endpoint comes from the provider's
    # own discovery document.
    return httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, follow_redirects=False)


def _parse_metadata(document: dict[str, Any], issuer: str) -> ProviderMetadata:
    # OpenID Connect Discovery 1.0 §4.3: the document's issuer must be the
    # one asked for, or another provider could stand in for it.
    if document.get("issuer") != issuer:
        raise ProviderFailed("unreachable", f"the discovery document names issuer {document.get('issuer')!r}, "
                                            f"not {issuer!r}")
    fields = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise ProviderFailed("unreachable", f"the discovery document has no usable {name}")
        fields[name] = value
    return ProviderMetadata(issuer=issuer, **fields)


async def metadata(settings: Settings) -> ProviderMetadata:
    """The provider's endpoints, from its discovery document (cached)."""
    issuer = settings.oidc_issuer
    cached = _fresh(_metadata, issuer)
    if cached is not None:
        return cached
    async with _client() as client:
        document = await _get_json(client, issuer.rstrip("/") + DISCOVERY_PATH)
    found = _parse_metadata(document, issuer)
    _metadata[issuer] = _Cached(found, time.monotonic() + CACHE_SECONDS)
    return found


async def _key_set(provider: ProviderMetadata, *, refresh: bool = False) -> KeySet:
    cached = None if refresh else _fresh(_keys, provider.jwks_uri)
    if cached is not None:
        return cached
    async with _client() as client:
        document = await _get_json(client, provider.jwks_uri)
    try:
        keys = KeySet.import_key_set(document)
    except (JoseError, ValueError, TypeError, KeyError):
        raise ProviderFailed("unreachable", "the provider's keys (jwks_uri) could not be read") from None
    _keys[provider.jwks_uri] = _Cached(keys, time.monotonic() + CACHE_SECONDS)
    return keys


def redirect_uri(settings: Settings) -> str:
    """Where the provider sends the browser back: register this URL with it."""
    return f"{settings.origin}/api/session/oidc/callback"


def authorization_url(settings: Settings, provider: ProviderMetadata, *, state: str, nonce: str,
                      code_verifier: str) -> str:
    """The provider's sign-in page for this flow (authorization code with
    PKCE S256)."""
    return add_params_to_uri(provider.authorization_endpoint, [
        ("response_type", "code"),
        ("client_id", settings.oidc_client_id),
        ("redirect_uri", redirect_uri(settings)),
        ("scope", settings.oidc_scopes),
        ("state", state),
        ("nonce", nonce),
        ("code_challenge", create_s256_code_challenge(code_verifier)),
        ("code_challenge_method", "S256"),
    ])


def _basic_auth(settings: Settings) -> tuple[str, str]:
    # RFC 6749 §2.3.1: the client id and secret are form-encoded before
    # they go into the Basic header.
    return (quote(settings.oidc_client_id, safe=""), quote(settings.oidc_client_secret.get_secret_value(), safe=""))


async def exchange_code(settings: Settings, provider: ProviderMetadata, code: str, code_verifier: str) -> str:
    """The ID token the provider gives for this authorization code."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(settings),
            "code_verifier": code_verifier}
    try:
        async with _client() as client:
            async with client.stream("POST", provider.token_endpoint, data=form, auth=_basic_auth(settings),
                                     headers={"Accept": "application/json"}) as response:
                body = await _bounded_body(response)
    except httpx.HTTPError as exc:
        raise ProviderFailed("unreachable", f"the token endpoint: {type(exc).__name__}") from None
    answer = _json_object(body, "the token endpoint")
    if response.status_code != 200:
        # The provider's error code only (its description may echo what was sent).
        error = str(answer.get("error", ""))[:100]
        raise ProviderFailed("exchange", f"the token endpoint refused the code ({response.status_code} {error})")
    id_token = answer.get("id_token")
    if not isinstance(id_token, str) or not id_token or len(id_token) > MAX_ID_TOKEN_CHARS:
        raise ProviderFailed("token", "the token endpoint gave no usable ID token")
    return id_token


def verify_id_token(id_token: str, keys: KeySet, *, issuer: str, client_id: str, nonce: str,
                    now: float | None = None) -> dict[str, Any]:
    """The ID token's claims once its signature (by one of `keys`), issuer,
    audience, expiry and nonce are checked (OpenID Connect Core §3.1.3.7)."""
    try:
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        claims = CodeIDToken(
            token.claims, token.header,
            options={"iss": {"essential": True, "value": issuer}, "aud": {"essential": True, "value": client_id}},
            params={"nonce": nonce, "client_id": client_id},
        )
        claims.validate(now=int(now if now is not None else time.time()), leeway=LEEWAY_S)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ProviderFailed("token", f"the ID token was refused: {type(exc).__name__} {exc}") from None
    # The nonce ties the token to this browser's flow: always required here
    # (CodeIDToken checks it only when it is present), and compared in
    # constant time.
    if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
        raise ProviderFailed("token", "the ID token's nonce is not this sign-in's")
    if not isinstance(claims.get("sub"), str) or not 0 < len(claims["sub"]) <= 255:
        raise ProviderFailed("token", "the ID token's subject is missing or too long")
    return dict(claims)


async def verified_claims(settings: Settings, code: str, *, code_verifier: str, nonce: str) -> dict[str, Any]:
    """Exchange the code and return the verified ID token's claims."""
    provider = await metadata(settings)
    id_token = await exchange_code(settings, provider, code, code_verifier)
    check = {"issuer": provider.issuer, "client_id": settings.oidc_client_id, "nonce": nonce}
    try:
        return verify_id_token(id_token, await _key_set(provider), **check)
    except ProviderFailed:
        # The provider may have rotated its keys since they were cached.
        return verify_id_token(id_token, await _key_set(provider, refresh=True), **check)
