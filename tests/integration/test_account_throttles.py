"""Throttles and the password hash gate over real HTTP, on an app of this
module's own with the default limits: the 11th wrong password in a minute
for one account is refused (429, Retry-After, a message in words) and other
accounts are not; the API and the web UI's sign-in share the counts; a
successful sign-in resets the account; registration is limited per address
and token creation per user; and 50 wrong sign-ins at once keep the app's
memory bounded.

The app trusts one proxy hop, so each test speaks from addresses of its own
(X-Forwarded-For) and the per-address counts of one test never reach
another's."""

from __future__ import annotations

import itertools
import os
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.app_server import PER_ADDRESS_LIMITS_FOR_TESTS, AppServer
from tests.support.databases import migrated_database

PASSWORD = "correct horse battery"
DEFAULT_LIMITS = {name: None for name in PER_ADDRESS_LIMITS_FOR_TESTS}
_addresses = itertools.count(1)


def new_address() -> str:
    """An address of this test's own (a header value: nothing is sent there)."""
    n = next(_addresses)
    return f"198.51.{100 + n // 250}.{n % 250 + 1}"


def new_email(prefix: str = "throttle") -> str:
    return f"{prefix}-{secrets.token_hex(5)}@example.com"


def post(app: AppServer, path: str, body: dict[str, Any], address: str, **headers: str) -> httpx.Response:
    return httpx.post(f"{app.url}{path}", json=body, headers={"X-Forwarded-For": address, **headers}, timeout=60)


def api_login(app: AppServer, email: str, password: str, address: str) -> httpx.Response:
    return post(app, "/api/v1/auth/login", {"email": email, "password": password}, address)


def ui_sign_in(app: AppServer, email: str, password: str, address: str) -> httpx.Response:
    return post(app, "/api/session", {"email": email, "password": password}, address)


def register(app: AppServer, address: str, email: str | None = None) -> httpx.Response:
    return post(app, "/api/v1/auth/register", {"email": email or new_email(), "password": PASSWORD}, address)


def assert_throttled(response: httpx.Response, what: str) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["Retry-After"]) > 0
    error = response.json()["error"]
    assert error["code"] == "too_many_requests"
    assert what in error["message"] and "try again in" in error["message"], error["message"]


@pytest.fixture(scope="module")
def guarded_app() -> Iterator[AppServer]:
    with migrated_database("cronium_throttles") as url:
        with AppServer(database_url=url, env_overrides={**DEFAULT_LIMITS, "CRONIUM_TRUSTED_PROXY_HOPS": "1"}) as app:
            yield app


@pytest.fixture
def account(guarded_app) -> dict[str, Any]:
    email = new_email()
    response = register(guarded_app, new_address(), email)
    assert response.status_code == 201, response.text
    return {"email": email, **response.json()}


def fail_sign_ins(app: AppServer, email: str, count: int, sign_in=api_login) -> None:
    for _ in range(count):
        response = sign_in(app, email, "not the password", new_address())
        assert response.status_code == 401, response.text


# -- sign-in, per account ----------------------------------------------------------------


def test_the_11th_wrong_password_in_a_minute_for_one_account_is_429(guarded_app, account):
    fail_sign_ins(guarded_app, account["email"], 10)
    assert_throttled(api_login(guarded_app, account["email"], "not the password", new_address()), "this account")


def test_a_throttled_account_refuses_even_the_right_password_until_the_wait_is_over(guarded_app, account):
    fail_sign_ins(guarded_app, account["email"], 10)
    response = api_login(guarded_app, account["email"], PASSWORD, new_address())
    assert_throttled(response, "this account")
    assert 50 <= int(response.headers["Retry-After"]) <= 60


def test_other_accounts_are_not_affected(guarded_app, account):
    other = register(guarded_app, new_address()).json()["user"]["email"]
    fail_sign_ins(guarded_app, account["email"], 11 - 1)
    assert api_login(guarded_app, account["email"], "x" * 10, new_address()).status_code == 429
    assert api_login(guarded_app, other, PASSWORD, new_address()).status_code == 200


def test_the_web_ui_sign_in_shares_the_accounts_count(guarded_app, account):
    fail_sign_ins(guarded_app, account["email"], 5, sign_in=ui_sign_in)
    fail_sign_ins(guarded_app, account["email"], 5, sign_in=api_login)
    assert_throttled(ui_sign_in(guarded_app, account["email"], PASSWORD, new_address()), "this account")
    assert_throttled(api_login(guarded_app, account["email"], PASSWORD, new_address()), "this account")


def test_a_successful_sign_in_resets_the_accounts_count(guarded_app, account):
    fail_sign_ins(guarded_app, account["email"], 9)
    assert api_login(guarded_app, account["email"], PASSWORD, new_address()).status_code == 200
    fail_sign_ins(guarded_app, account["email"], 10)
    assert api_login(guarded_app, account["email"], "wrong again", new_address()).status_code == 429


def test_unknown_emails_are_throttled_like_accounts(guarded_app):
    email = new_email("nobody")
    fail_sign_ins(guarded_app, email, 10)
    assert_throttled(api_login(guarded_app, email, "guess", new_address()), "this account")


# -- sign-in, per address ----------------------------------------------------------------


def test_the_51st_failed_sign_in_from_one_address_is_429_whatever_the_account(guarded_app):
    address = new_address()
    for _ in range(50):
        assert api_login(guarded_app, new_email("spray"), "guess", address).status_code == 401
    assert_throttled(api_login(guarded_app, new_email("spray"), "guess", address), "this address")
    assert api_login(guarded_app, new_email("spray"), "guess", new_address()).status_code == 401


# -- registration and tokens ---------------------------------------------------------------


def test_the_11th_registration_in_an_hour_from_one_address_is_429(guarded_app):
    address = new_address()
    for _ in range(10):
        assert register(guarded_app, address).status_code == 201
    assert_throttled(register(guarded_app, address), "accounts created from this address")
    ui = post(guarded_app, "/api/session/register", {"email": new_email(), "password": PASSWORD}, address)
    assert_throttled(ui, "accounts created from this address")
    assert register(guarded_app, new_address()).status_code == 201


def test_the_31st_token_an_account_creates_in_an_hour_is_429(guarded_app, account):
    headers = {"Authorization": f"Bearer {account['token']}"}
    with httpx.Client(base_url=guarded_app.url, headers=headers, timeout=30) as client:
        for n in range(30):
            assert client.post("/api/v1/tokens", json={"name": f"t{n}"}).status_code == 201
        assert_throttled(client.post("/api/v1/tokens", json={"name": "one more"}), "API tokens created")
        assert len(client.get("/api/v1/tokens").json()["items"]) == 31  # 30 and the registration's


# -- memory under parallel sign-ins ----------------------------------------------------------

HASH_CONCURRENCY = 2
ARGON2_MIB = 64
# Per hash 64 MiB (argon2-cffi's default memory cost); on top of that, the
# request threads' stacks and buffers and the allocator's caches: a second
# request handled at the same time costs well under 1 MiB, so 64 MiB covers
# fifty of them many times over.
SLACK_MIB = 64
MEMORY_BOUND_MIB = HASH_CONCURRENCY * ARGON2_MIB + SLACK_MIB


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except ProcessLookupError:
                pass
    return pids


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _reset_peak(pid: int) -> None:
    """Set the process's peak resident size (VmHWM) to what it is now."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@pytest.fixture(scope="module")
def gated_app() -> Iterator[AppServer]:
    overrides = {"CRONIUM_HASH_CONCURRENCY": str(HASH_CONCURRENCY), "CRONIUM_HASH_WAIT": "60"}
    with migrated_database("cronium_hash_gate") as url:
        with AppServer(database_url=url, env_overrides=overrides) as app:
            yield app


@pytest.mark.slow
def test_50_parallel_wrong_sign_ins_keep_memory_bounded(gated_app):
    # Warm up: the first request loads code and allocator arenas of its own.
    assert api_login(gated_app, new_email("warm"), "guess", "127.0.0.1").status_code == 401
    pids = _group_pids(gated_app.process.pid)
    before = {pid: _status_kib(pid, "VmRSS") for pid in pids}
    for pid in pids:
        _reset_peak(pid)

    statuses: list[int] = []
    start = threading.Barrier(50)

    def sign_in() -> None:
        start.wait()
        statuses.append(api_login(gated_app, new_email("burst"), "guess", "127.0.0.1").status_code)

    threads = [threading.Thread(target=sign_in) for _ in range(50)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    growth_mib = sum(_status_kib(pid, "VmHWM") - before[pid] for pid in pids) / 1024
    assert sorted(set(statuses)) == [401], statuses
    assert growth_mib < MEMORY_BOUND_MIB, (
        f"resident memory grew {growth_mib:.0f} MiB during 50 sign-ins ({time.monotonic() - began:.1f} s)"
    )
