"""The worker clamps a job spec's resources: Docker reads NanoCpus 0, a
memory limit of 0 and a pids limit of -1 as no limit at all."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from orchestrator_worker.job_limits import JobLimits, job_limits
from orchestrator_worker.settings import WorkerSettings


@dataclass
class Maxima:
    job_max_cpus: float = 2.0
    job_max_memory_mb: int = 2048
    job_max_pids: int = 1024


def test_a_tiny_cpu_share_becomes_the_smallest_real_limit():
    limits = job_limits({"cpus": 1e-10, "memoryMb": 256, "pids": 128}, Maxima())
    assert limits.cpus == 0.01
    assert limits.nano_cpus == 10_000_000
    assert limits.adjustments == ("the job asks for cpus 1e-10; this worker allows 0.01 to 2, so it gets 0.01",)


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ({"cpus": 64, "memoryMb": 1 << 40, "pids": 10**9}, JobLimits(2.0, 2048, 1024)),
        ({"cpus": 0, "memoryMb": 0, "pids": 0}, JobLimits(0.01, 16, 8)),
        ({"cpus": -1, "memoryMb": -5, "pids": -1}, JobLimits(0.01, 16, 8)),
        ({"cpus": math.inf, "memoryMb": 32, "pids": 16}, JobLimits(2.0, 32, 16)),
    ],
)
def test_every_value_is_brought_within_the_bounds_and_each_change_is_said(resources, expected):
    limits = job_limits(resources, Maxima())
    assert (limits.cpus, limits.memory_mb, limits.pids) == (expected.cpus, expected.memory_mb, expected.pids)
    changed = sum(resources[name] != value for name, value in (("cpus", limits.cpus), ("memoryMb", limits.memory_mb), ("pids", limits.pids)))
    assert len(limits.adjustments) == changed > 0


def test_values_within_bounds_are_kept_and_not_mentioned():
    assert job_limits({"cpus": 0.5, "memoryMb": 64, "pids": 64}, Maxima()) == JobLimits(0.5, 64, 64)


def test_a_spec_without_resources_gets_the_defaults():
    assert job_limits(None, Maxima()) == JobLimits(1.0, 256, 128)


def test_a_default_above_the_maximum_is_the_maximum():
    assert job_limits({}, Maxima(job_max_cpus=0.5, job_max_memory_mb=128, job_max_pids=64)) == JobLimits(0.5, 128, 64)


@pytest.mark.parametrize("value", [math.nan, "many", True, [1]])
def test_a_value_that_is_not_a_number_gets_the_default(value):
    limits = job_limits({"cpus": value}, Maxima())
    assert limits.cpus == 1.0
    assert "is not a number" in limits.adjustments[0]


def test_the_maxima_are_worker_settings_named_like_the_apps():
    settings = WorkerSettings(
        _env_file=None, ORCHESTRATOR_TOKEN="unit-test-token",
        CRONIUM_JOB_MAX_CPUS="4", CRONIUM_JOB_MAX_MEMORY_MB="512", CRONIUM_JOB_MAX_PIDS="256",
    )
    limits = job_limits({"cpus": 8, "memoryMb": 4096, "pids": 4096}, settings)
    assert (limits.cpus, limits.memory_mb, limits.pids) == (4.0, 512, 256)


def test_a_maximum_below_the_minimum_is_refused_at_start():
    with pytest.raises(ValueError, match="CRONIUM_JOB_MAX_CPUS|job_max_cpus|greater than or equal"):
        WorkerSettings(_env_file=None, ORCHESTRATOR_TOKEN="unit-test-token", CRONIUM_JOB_MAX_CPUS="0")
