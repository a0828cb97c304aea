"""Messages the forms show next to a field (from pydantic and from the
services), and how a fire time reads."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import BaseModel, Field, ValidationError

from cronium_app.display.messages import error_message, sentence, service_field_errors, validation_field_errors
from cronium_app.errors import Invalid
from cronium_app.state.schedule_form import fire_time_text

NAMES = {"timeoutSeconds": ("Timeout", "second"), "memoryMb": ("Memory", "MB"), "cpus": ("CPUs", "")}


class _Limits(BaseModel):
    timeoutSeconds: int = Field(default=1, ge=1)
    memoryMb: int = Field(default=16, ge=16)
    cpus: float = Field(default=1.0, gt=0)


class _Request(BaseModel):
    url: str
    timeout: int = Field(default=1, ge=1)


class _Step(BaseModel):
    name: str


class _Form(BaseModel):
    name: str = Field(min_length=1)
    request: _Request | None = None
    steps: list[_Step] = []
    secret: int = 0


def _form_errors(**values) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        _Form(**values)
    return caught.value


def _first_error(**values) -> dict:
    with pytest.raises(ValidationError) as caught:
        _Limits(**values)
    return caught.value.errors()[0]


def test_a_timeout_below_one_second_is_said_in_words():
    assert error_message(_first_error(timeoutSeconds=0), NAMES, "timeoutSeconds") == "Timeout must be at least 1 second."


def test_a_unit_in_capitals_takes_no_plural():
    assert error_message(_first_error(memoryMb=8), NAMES, "memoryMb") == "Memory must be at least 16 MB."


def test_a_strict_bound_without_a_unit():
    assert error_message(_first_error(cpus=0), NAMES, "cpus") == "CPUs must be more than 0."


def test_an_unknown_field_keeps_the_message_as_a_sentence():
    assert error_message(_first_error(timeoutSeconds=0), {}, "timeoutSeconds") == (
        "Input should be greater than or equal to 1."
    )


def test_sentence_drops_the_value_error_prefix():
    assert sentence("Value error, url must start with http://") == "URL must start with http://."


def test_a_fire_time_reads_in_the_schedule_zone_with_its_name():
    moment = datetime(2026, 7, 6, 7, 30, tzinfo=timezone.utc)
    assert fire_time_text(moment, "Europe/Paris") == "Mon 2026-07-06 09:30:00 CEST"
    assert fire_time_text(moment, "UTC") == "Mon 2026-07-06 07:30:00 UTC"


def test_a_nested_object_field_has_its_own_key():
    errors = validation_field_errors(_form_errors(name="x", request={"timeout": 0}), nested=("request",))
    assert errors == {"request.url": "Field required.", "request.timeout": "Input should be greater than or equal to 1."}


def test_an_item_of_a_numbered_list_is_named_by_its_number():
    errors = validation_field_errors(_form_errors(name="x", steps=[{"name": "a"}, {}]), numbered={"steps": "Step"})
    assert errors == {"steps": "Step 2: field required."}


def test_a_field_without_a_place_on_the_form_goes_elsewhere():
    exc = _form_errors(name="", secret="many")
    assert validation_field_errors(exc, fields=("name",)) == {
        "name": "String should have at least 1 character.",
        "form": "Input should be a valid integer, unable to parse string as an integer.",
    }


def test_the_first_error_of_a_field_is_the_one_shown():
    errors = validation_field_errors(_form_errors(name="x", steps=[{}, {}]), numbered={"steps": "Step"})
    assert errors == {"steps": "Step 1: field required."}


def test_a_service_error_lands_on_its_field_or_elsewhere():
    exc = Invalid("variable value is too large", field="value")
    assert service_field_errors(exc) == {"value": "Variable value is too large."}
    assert service_field_errors(exc, fields=("key",), elsewhere="value") == {"value": "Variable value is too large."}
    assert service_field_errors(Invalid("no such thing")) == {"form": "No such thing."}
    assert service_field_errors(Invalid("bad", fields={"a": "too long", "b": "too short"}), fields=("a",)) == {
        "a": "Too long.",
        "form": "Too short.",
    }
