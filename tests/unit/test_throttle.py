"""The throttle (auth/throttle.py) on a clock of the test's own: the limit in
a sliding window, the doubling wait, success resetting the account, the
message and Retry-After, and memory bounded by the number of keys."""

from __future__ import annotations

import pytest

from cronium_app.auth.throttle import PasswordRefused, Throttle, account_throttles, sign_in_attempt
from cronium_app.errors import TooManyRequests
from cronium_app.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle(clock: Clock, limit: int = 10, window_s: float = 60, max_wait_s: float = 3600, max_keys: int = 100):
    return Throttle("failed sign-ins for this account", limit, window_s, max_wait_s=max_wait_s, max_keys=max_keys,
                    clock=clock)


def take_n(t: Throttle, key: str, n: int) -> None:
    for _ in range(n):
        t.take(key)


def test_the_eleventh_try_in_a_minute_is_refused():
    clock = Clock()
    t = throttle(clock)
    take_n(t, "a@example.com", 10)
    with pytest.raises(TooManyRequests):
        t.take("a@example.com")


def test_other_keys_are_not_affected():
    clock = Clock()
    t = throttle(clock)
    take_n(t, "a@example.com", 10)
    with pytest.raises(TooManyRequests):
        t.take("a@example.com")
    t.take("b@example.com")


def test_tries_older_than_the_window_no_longer_count():
    clock = Clock()
    t = throttle(clock)
    take_n(t, "k", 9)
    clock.now += 61
    take_n(t, "k", 10)


def test_refusal_says_how_long_to_wait_in_words_and_seconds():
    clock = Clock()
    t = throttle(clock)
    take_n(t, "k", 10)
    with pytest.raises(TooManyRequests) as refused:
        t.take("k")
    assert refused.value.retry_after == 60
    assert refused.value.headers == {"Retry-After": "60"}
    assert refused.value.message == "too many failed sign-ins for this account: try again in 60 seconds"


def test_tries_during_the_wait_are_refused_with_the_time_left():
    clock = Clock()
    t = throttle(clock)
    take_n(t, "k", 10)
    with pytest.raises(TooManyRequests):
        t.take("k")
    clock.now += 45
    with pytest.raises(TooManyRequests) as refused:
        t.take("k")
    assert refused.value.retry_after == 15


def _exhaust(t: Throttle, clock: Clock, key: str) -> int:
    """Use up the key's tries; the wait the next try is given."""
    take_n(t, key, t.limit)
    with pytest.raises(TooManyRequests) as refused:
        t.take(key)
    wait = refused.value.retry_after
    clock.now += wait
    return wait


def test_the_wait_doubles_each_time_up_to_the_maximum():
    clock = Clock()
    t = throttle(clock, max_wait_s=300)
    assert [_exhaust(t, clock, "k") for _ in range(5)] == [60, 120, 240, 300, 300]


def test_reset_forgets_the_count_and_the_backoff():
    clock = Clock()
    t = throttle(clock)
    _exhaust(t, clock, "k")
    take_n(t, "k", 5)
    t.reset("k")
    assert _exhaust(t, clock, "k") == 60


def test_a_key_left_alone_long_enough_is_forgotten_backoff_and_all():
    clock = Clock()
    t = throttle(clock, max_wait_s=600)
    _exhaust(t, clock, "k")
    _exhaust(t, clock, "k")
    clock.now += 600 + 60 + 1
    assert _exhaust(t, clock, "k") == 60


def test_give_back_uncounts_one_try():
    clock = Clock()
    t = throttle(clock)
    take_n(t, "k", 10)
    t.give_back("k")
    t.take("k")


def test_memory_is_bounded_by_the_number_of_keys():
    clock = Clock()
    t = throttle(clock, max_keys=100)
    for n in range(1000):
        t.take(f"203.0.113.{n}")
    assert len(t._tries) == 100


def test_long_waits_are_said_in_minutes_and_hours():
    clock = Clock()
    t = throttle(clock, window_s=600, max_wait_s=36000)
    take_n(t, "k", 10)
    with pytest.raises(TooManyRequests) as refused:
        t.take("k")
    assert refused.value.message.endswith("try again in 10 minutes")
    clock.now += 600
    for wait in ("20 minutes", "40 minutes", "80 minutes", "3 hours"):
        take_n(t, "k", 10)
        with pytest.raises(TooManyRequests) as refused:
            t.take("k")
        assert refused.value.message.endswith(f"try again in {wait}")
        clock.now += refused.value.retry_after


# -- sign_in_attempt -------------------------------------------------------------------


class WrongPassword(PasswordRefused, Exception):
    pass


def _settings(**overrides) -> Settings:
    values = {"DATABASE_URL": "sqlite://", "SECRET_KEY": "k" * 32, "ORCHESTRATOR_TOKEN": "t" * 32,
              "CRONIUM_SIGN_IN_ACCOUNT_LIMIT": 3, "CRONIUM_SIGN_IN_IP_LIMIT": 5,
              # A window no other test uses: these settings get throttles of their own.
              "CRONIUM_SIGN_IN_WINDOW": 61.5}
    return Settings(**{**values, **overrides})


def _fail(settings: Settings, address: str, account: str) -> None:
    with pytest.raises(WrongPassword), sign_in_attempt(settings, address, account):
        raise WrongPassword()


def test_wrong_passwords_count_for_the_account_and_the_address():
    settings = _settings(CRONIUM_SIGN_IN_WINDOW=61.1)
    for _ in range(3):
        _fail(settings, "198.51.100.1", "a@example.com")
    with pytest.raises(TooManyRequests, match="this account"), sign_in_attempt(settings, "198.51.100.2", "a@example.com"):
        pass
    _fail(settings, "198.51.100.1", "b@example.com")
    _fail(settings, "198.51.100.1", "b@example.com")
    with pytest.raises(TooManyRequests, match="this address"), sign_in_attempt(settings, "198.51.100.1", "c@example.com"):
        pass


def test_success_resets_the_account_count():
    settings = _settings(CRONIUM_SIGN_IN_WINDOW=61.2)
    for _ in range(2):
        _fail(settings, "198.51.100.1", "a@example.com")
    with sign_in_attempt(settings, "198.51.100.1", "a@example.com"):
        pass
    for _ in range(3):
        _fail(settings, "198.51.100.1", "a@example.com")


def test_other_errors_count_as_nothing():
    settings = _settings(CRONIUM_SIGN_IN_WINDOW=61.3)
    for _ in range(10):
        with pytest.raises(RuntimeError), sign_in_attempt(settings, "198.51.100.1", "a@example.com"):
            raise RuntimeError("database down")
    for _ in range(3):
        _fail(settings, "198.51.100.1", "a@example.com")


def test_the_same_settings_share_one_set_of_throttles():
    assert account_throttles(_settings()) is account_throttles(_settings())
