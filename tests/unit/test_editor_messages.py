"""Messages the editors show next to a field, and how a fire time reads."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import BaseModel, Field, ValidationError

from cronium_app.state.editor import error_message, sentence
from cronium_app.state.schedule_form import fire_time_text

NAMES = {"timeoutSeconds": ("Timeout", "second"), "memoryMb": ("Memory", "MB"), "cpus": ("CPUs", "")}


class _Limits(BaseModel):
    timeoutSeconds: int = Field(default=1, ge=1)
    memoryMb: int = Field(default=16, ge=16)
    cpus: float = Field(default=1.0, gt=0)


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
