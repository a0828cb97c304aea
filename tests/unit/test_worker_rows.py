"""How the Workers page words a worker (cronium_app/display/workers.py)."""

from __future__ import annotations

import pytest

from cronium_app.display.workers import ago, engine_label, jobs_label, pool_label, worker_row


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0, "just now"), (1, "just now"), (2, "2 s ago"), (59, "59 s ago"), (60, "1 min ago"), (7_200, "2 h ago"),
     (172_800, "2 d ago")],
)
def test_ago(seconds, said):
    assert ago(seconds) == said


def test_the_engine_names_its_machine_when_the_worker_said_it():
    assert [engine_label(view) for view in ({"engineVersion": "20.10.24", "engineHost": "dock"},
                                            {"engineVersion": "20.10.24"}, {})] == [
        "Docker 20.10.24 on dock", "Docker 20.10.24", "—",
    ]


def test_jobs_are_counted_against_the_concurrency_when_known():
    assert (jobs_label({"runningJobs": 2, "concurrency": 8}), jobs_label({"runningJobs": 2, "concurrency": None})) == (
        "2 of 8", "2",
    )


def test_the_pool_is_shown_in_the_workers_own_words():
    assert (pool_label({"ready": 3, "target": 8}), pool_label(None), pool_label({})) == ("ready 3 · target 8", "—", "—")


def test_a_worker_of_an_earlier_release_reads_as_dashes():
    view = {"id": "w-old", "status": "online", "runningJobs": 1, "secondsSinceHeartbeat": 5,
            "lastHeartbeatAt": "2026-01-01T00:00:00Z"}
    row = worker_row(view, "UTC")
    assert (row["host"], row["engine"], row["jobs"], row["pool"], row["last_seen_full"]) == (
        "—", "—", "1", "—", "2026-01-01 00:00:00",
    )
