"""Single sign-on's parts that need no provider: the settings (off, whole,
or refused with words), the ID token's checks on tokens signed here with a
key of the test's own (another audience, another nonce, another issuer,
expired, another key, no signature), and the role a claim gives."""

from __future__ import annotations

import time
from typing import Any

import jwt as pyjwt
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey
from pydantic import ValidationError

from cronium_app.auth.oidc import REFUSALS, Flow, SignOnRefused, _open, _seal, start_url
from cronium_app.auth.oidc_accounts import identity_from_claims, role_from_claims
from cronium_app.auth.oidc_provider import ProviderFailed, verify_id_token
from cronium_app.settings import Settings

ISSUER = "https://id.example.com"
CLIENT_ID = "cronium"
NONCE = "n-0123456789"
SECRET = "client-secret-0123456789"
WHOLE = {"CRONIUM_OIDC_ISSUER": ISSUER, "CRONIUM_OIDC_CLIENT_ID": CLIENT_ID, "CRONIUM_OIDC_CLIENT_SECRET": SECRET}


def settings(**env: Any) -> Settings:
    return Settings(_env_file=None, DATABASE_URL="sqlite://", SECRET_KEY="k" * 40, ORCHESTRATOR_TOKEN="t" * 40, **env)


def refusal(**env: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        settings(**env)
    return str(refused.value)


def test_without_an_issuer_single_sign_on_is_off():
    assert not settings().oidc_enabled


def test_a_whole_configuration_turns_it_on_with_the_defaults():
    on = settings(**WHOLE)
    assert on.oidc_enabled and on.oidc_scopes == "openid email profile" and on.oidc_create_accounts == "registration"


@pytest.mark.parametrize("missing", ["CRONIUM_OIDC_CLIENT_ID", "CRONIUM_OIDC_CLIENT_SECRET"])
def test_a_half_configuration_is_refused_with_the_missing_setting_named(missing):
    assert missing in refusal(**{name: value for name, value in WHOLE.items() if name != missing})


def test_settings_without_an_issuer_are_refused():
    assert "CRONIUM_OIDC_ISSUER is not" in refusal(CRONIUM_OIDC_CLIENT_ID=CLIENT_ID)


def test_an_issuer_over_plain_http_is_refused_unless_it_is_this_machine():
    assert "https://" in refusal(**{**WHOLE, "CRONIUM_OIDC_ISSUER": "http://id.example.com"})
    assert settings(**{**WHOLE, "CRONIUM_OIDC_ISSUER": "http://127.0.0.1:5556"}).oidc_enabled


def test_a_role_claim_needs_its_admin_values():
    assert "go together" in refusal(**WHOLE, CRONIUM_OIDC_ROLE_CLAIM="groups")


def test_scopes_without_openid_are_refused():
    assert "openid" in refusal(**WHOLE, CRONIUM_OIDC_SCOPES="email profile")


def test_the_client_secret_is_not_in_the_settings_repr():
    assert SECRET not in repr(settings(**WHOLE)) and SECRET not in str(settings(**WHOLE).model_dump())


# -- the ID token ---------------------------------------------------------------

KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
KEYS = KeySet([KEY])


def id_token(key=KEY, alg: str = "RS256", **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "person-1", "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": NONCE,
              **overrides}
    return jwt.encode({"alg": alg, "kid": "k1"}, {k: v for k, v in claims.items() if v is not None}, key)


def verify(token: str) -> dict[str, Any]:
    return verify_id_token(token, KEYS, issuer=ISSUER, client_id=CLIENT_ID, nonce=NONCE)


def refused(token: str) -> str:
    with pytest.raises(ProviderFailed) as failed:
        verify(token)
    assert failed.value.reason == "token"
    return failed.value.detail


def test_a_good_id_token_gives_its_claims():
    assert verify(id_token(email="a@example.com"))["email"] == "a@example.com"


def test_an_id_token_for_another_audience_is_refused():
    refused(id_token(aud="another-client"))


def test_an_id_token_with_another_nonce_or_none_is_refused():
    refused(id_token(nonce="another-nonce"))
    refused(id_token(nonce=None))


def test_an_id_token_from_another_issuer_is_refused():
    refused(id_token(iss="https://evil.example.com"))


def test_an_expired_id_token_is_refused():
    refused(id_token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200))


def test_an_id_token_signed_with_another_key_is_refused():
    refused(id_token(key=OTHER_KEY))


def test_an_id_token_signed_with_a_shared_secret_is_refused():
    """HS256 with a key an attacker might know (the client secret) is never accepted."""
    refused(id_token(key=OctKey.import_key(SECRET.encode() * 2), alg="HS256"))


def test_an_unsigned_id_token_is_refused():
    header, payload, _ = id_token().split(".")
    refused(f"{header}.{payload}.")


def test_an_id_token_without_a_subject_is_refused():
    refused(id_token(sub=None))


# -- claims -------------------------------------------------------------------------

ROLES = settings(**WHOLE, CRONIUM_OIDC_ROLE_CLAIM="realm_access.roles", CRONIUM_OIDC_ADMIN_VALUES="ops, root")


@pytest.mark.parametrize(("value", "role"), [
    (["dev", "ops"], "admin"), ("root", "admin"), (["dev"], "user"), ([], "user"), (None, "user"), (42, "user"),
])
def test_the_role_claim_gives_admin_for_an_admin_value_else_user(value, role):
    assert role_from_claims(ROLES, {"realm_access": {"roles": value}}) == role


def test_without_a_role_claim_the_role_is_left_alone():
    assert role_from_claims(settings(**WHOLE), {"groups": ["ops"]}) is None


def test_only_a_json_true_verifies_an_email():
    for verified, expected in ((True, True), ("true", False), (1, False), (None, False)):
        claims = {"sub": "s", "email": " A@Example.com ", "email_verified": verified}
        identity = identity_from_claims(ROLES, ISSUER, claims)
        assert identity.email == "a@example.com" and identity.email_verified is expected


def test_a_malformed_email_is_no_email():
    assert identity_from_claims(ROLES, ISSUER, {"sub": "s", "email": "not an address"}).email is None


def test_the_start_link_keeps_only_a_page_of_this_site():
    assert start_url("/events/3") == "/api/session/oidc/login?next=/events/3"
    assert start_url("//evil.example") == "/api/session/oidc/login?next=/"


def test_every_refusal_has_words():
    assert all(message.endswith(".") for message in REFUSALS.values())


# -- the flow cookie -------------------------------------------------------------------


def test_the_flow_cookie_opens_only_unexpired_and_signed_with_this_servers_key():
    on = settings(**WHOLE)
    flow = Flow(state="s" * 43, nonce="n" * 43, code_verifier="v" * 86, next_page="/jobs")
    assert _open(_seal(flow, on), on) == flow
    claims = pyjwt.decode(_seal(flow, on), on.secret_key, algorithms=["HS256"])
    for cookie in (
        pyjwt.encode({**claims, "exp": int(time.time()) - 1}, on.secret_key, algorithm="HS256"),  # expired
        pyjwt.encode(claims, "another-key-" * 4, algorithm="HS256"),  # forged
        pyjwt.encode({**claims, "iss": "https://other.example.com"}, on.secret_key, algorithm="HS256"),
        "",
    ):
        with pytest.raises(SignOnRefused) as refused:
            _open(cookie, on)
        assert refused.value.reason == "expired"
