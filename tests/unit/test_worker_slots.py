"""The X-Worker-Slots header and how often a replica writes what it says."""

from __future__ import annotations

import pytest

from cronium_app.jobs import workers


@pytest.mark.parametrize(
    "header,expected",
    [("0/8", (0, 8)), ("3/8", (3, 8)), ("9/8", (8, 8)), (None, None), ("", None), ("8", None), ("1/0", None),
     ("-1/8", None), ("1/8/2", None), ("1234567/8", None), (" 1/8", None)],
)
def test_slots_header_is_used_over_total(header, expected):
    assert workers.parse_slots(header) == expected


def test_a_worker_is_written_at_most_once_per_period_unless_its_total_changes():
    worker = "slots-unit-worker"
    assert workers.slots_due_for_write(worker, 8)
    assert not workers.slots_due_for_write(worker, 8)
    assert workers.slots_due_for_write(worker, 16)
    assert not workers.slots_due_for_write(worker, 16)
