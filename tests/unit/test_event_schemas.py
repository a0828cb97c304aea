from __future__ import annotations

import pytest
from pydantic import ValidationError

from cronium_app.errors import Invalid, TooLarge
from cronium_app.events.schemas import EventCreate
from cronium_app.events.service import _check_limits
from cronium_app.models import Event
from cronium_app.settings import Settings


def _event(**fields) -> Event:
    base = dict(user_id=1, name="e", type="bash", script="echo", timeout_seconds=10, cpus=1, memory_mb=64, pids_limit=64)
    base.update(fields)
    return Event(**base)


def test_unknown_type_is_refused():
    with pytest.raises(ValidationError):
        EventCreate(name="x", type="ruby", script="1")


def test_reserved_env_prefix_is_refused():
    with pytest.raises(ValidationError, match="reserved"):
        EventCreate(name="x", type="bash", script="1", envVars={"CRONIUM_TOKEN": "x"})


def test_bad_env_name_is_refused():
    with pytest.raises(ValidationError):
        EventCreate(name="x", type="bash", script="1", envVars={"1BAD": "x"})


def test_http_url_needs_a_scheme():
    with pytest.raises(ValidationError, match="http"):
        EventCreate(name="x", type="http", httpRequest={"url": "file:///etc/passwd"})


def test_http_method_is_upper_cased():
    event = EventCreate(name="x", type="http", httpRequest={"url": "https://example.com", "method": "post"})
    assert event.http_request.method == "POST"


def test_blank_name_is_refused():
    with pytest.raises(ValidationError):
        EventCreate(name="   ", type="bash", script="1")


def test_script_over_the_cap_is_too_large():
    settings = Settings(_env_file=None, CRONIUM_SCRIPT_MAX_BYTES=10)
    with pytest.raises(TooLarge):
        _check_limits(_event(script="x" * 11), settings)


def test_memory_over_the_maximum_names_the_field():
    with pytest.raises(Invalid) as info:
        _check_limits(_event(memory_mb=10**6), Settings(_env_file=None))
    assert "memoryMb" in info.value.details["fields"]


def test_script_event_needs_a_script():
    with pytest.raises(Invalid, match="needs a script"):
        _check_limits(_event(script="  "), Settings(_env_file=None))


def test_egress_can_be_turned_off_by_the_admin():
    with pytest.raises(Invalid, match="egress"):
        _check_limits(_event(network="egress"), Settings(_env_file=None, CRONIUM_ALLOW_EGRESS=False))
