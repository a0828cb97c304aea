"""The benchmark suites' base (bench/suite.py) and the run loop (bench/run.py):
a failed check is a problem and the next phase still runs, what was measured
before it is kept, and the run says so with its exit status."""

from __future__ import annotations

import json

import pytest

from bench import Options, SuiteFailed, results
from bench import run as bench_run
from bench.suite import Suite, per_database_baselines


def make_suite(**baselines: str) -> Suite:
    return Suite("probe", Options(quick=True), baselines)


def fail_check() -> None:
    raise AssertionError("3 of 4 jobs completed")


def crash() -> None:
    raise RuntimeError("boom")


def test_a_failed_phase_is_a_problem_and_the_next_phase_still_runs():
    suite = make_suite()
    suite.phase("first", fail_check)
    suite.phase("second", lambda: suite.figures.update(second_ms=1.0))
    assert suite.problems == ["first: 3 of 4 jobs completed"]
    assert suite.figures == {"second_ms": 1.0}


def test_a_crash_in_a_phase_is_a_problem_named_with_its_type():
    suite = make_suite()
    assert suite.phase("first", crash) is False
    assert suite.problems == ["first: RuntimeError: boom"]


def test_a_phase_that_gets_through_leaves_no_problem():
    suite = make_suite()
    assert suite.phase("first", lambda: None) is True
    assert suite.problems == []


def test_per_database_baselines_name_each_database():
    assert per_database_baselines({"x_{db}_ms": "floor_{db}_ms"}) == {
        "x_sqlite_ms": "floor_sqlite_ms",
        "x_postgres_ms": "floor_postgres_ms",
    }


def test_ratio_is_a_figure_over_its_baseline():
    suite = make_suite(jobs_per_s="raw_runs_per_s")
    suite.figures.update(jobs_per_s=3.0, raw_runs_per_s=4.0)
    assert suite.ratio("jobs_per_s") == 0.75


@pytest.fixture
def probe_suite(monkeypatch, tmp_path):
    """Registers a suite `probe` that measures one figure, then fails a check;
    results go to a file of the test's own."""
    path = tmp_path / "bench" / "results.json"
    merge = results.merge
    monkeypatch.setattr(results, "RESULTS_PATH", path)
    monkeypatch.setattr(results, "merge", lambda figures: merge(figures, path))
    monkeypatch.setattr(bench_run, "_terminate_on_sigterm", lambda: None)  # pytest's own SIGTERM stays

    def run(suite: Suite) -> None:
        suite.figures["probe_jobs_per_s"] = 2.0
        suite.figures["probe_raw_runs_per_s"] = 4.0
        raise SuiteFailed("a job was lost")

    registered = bench_run.Registered(run, {"probe_jobs_per_s": "probe_raw_runs_per_s"}, "a probe")
    monkeypatch.setattr(bench_run, "SUITES", {"probe": registered})
    return path


def test_a_failed_suite_exits_non_zero_and_says_why(probe_suite, capsys):
    assert bench_run.main(["--only", "probe"]) == 1
    assert "FAILED probe: a job was lost" in capsys.readouterr().err


def test_a_failed_suite_still_records_its_figures_and_their_ratio(probe_suite, capsys):
    bench_run.main(["--only", "probe"])
    table = capsys.readouterr().out
    assert json.loads(probe_suite.read_text()) == {"probe_jobs_per_s": 2.0, "probe_raw_runs_per_s": 4.0}
    assert any(line.split()[0] == "probe_jobs_per_s" and "0.50x" in line for line in table.splitlines() if line)
