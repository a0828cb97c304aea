from __future__ import annotations

import time

from cronium_app.auth.passwords import hash_password, verify_password
from cronium_app.auth.tokens import TOKEN_PREFIX, digest, generate_token
from cronium_app.ids import new_id


def test_ids_carry_their_prefix():
    assert new_id("job").startswith("job_")


def test_ids_sort_by_creation_time():
    first = new_id("job")
    time.sleep(0.002)
    assert new_id("job") > first


def test_ids_are_unique():
    assert len({new_id("job") for _ in range(10_000)}) == 10_000


def test_tokens_are_long_and_prefixed():
    token = generate_token()
    assert token.startswith(TOKEN_PREFIX) and len(token) >= 40


def test_token_digest_is_stable_and_not_the_token():
    token = generate_token()
    assert digest(token) == digest(token) and token not in digest(token)


def test_password_hash_verifies_the_right_password():
    assert verify_password(hash_password("s3cret-pass"), "s3cret-pass")


def test_password_hash_refuses_a_wrong_password():
    assert not verify_password(hash_password("s3cret-pass"), "other-pass")


def test_unknown_user_password_check_is_false():
    assert not verify_password(None, "anything")


def test_password_hash_is_salted():
    assert hash_password("same") != hash_password("same")
