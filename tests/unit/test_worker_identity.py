"""A worker's id when none is given: a per-host slot held with flock, so
two live workers never share one and a restarted worker gets its old one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orchestrator_worker import identity

HOST = "host-a"


def test_an_explicit_id_is_taken_as_given_and_takes_no_slot(tmp_path: Path):
    with identity.take("my-worker", tmp_path, HOST) as me:
        assert me.worker_id == "my-worker"
        assert me.slot_file is None
    assert not (tmp_path / identity.SLOTS_DIR).exists()


def test_two_workers_on_one_host_get_different_ids(tmp_path: Path):
    with identity.take("", tmp_path, HOST) as first, identity.take("", tmp_path, HOST) as second:
        assert (first.worker_id, second.worker_id) == (f"{HOST}-0", f"{HOST}-1")


def test_a_released_slot_is_the_next_workers(tmp_path: Path):
    first = identity.take("", tmp_path, HOST)
    with identity.take("", tmp_path, HOST) as second:
        first.release()
        with identity.take("", tmp_path, HOST) as successor:
            assert successor.worker_id == first.worker_id != second.worker_id


def test_the_slot_of_a_killed_process_is_free_again(tmp_path: Path):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from orchestrator_worker import identity
            me = identity.take("", {str(tmp_path)!r}, {HOST!r})
            print(me.worker_id, flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == f"{HOST}-0"
        with identity.take("", tmp_path, HOST) as other:
            assert other.worker_id == f"{HOST}-1"
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        with identity.take("", tmp_path, HOST) as restarted:
            assert restarted.worker_id == f"{HOST}-0"
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)


def test_a_run_dir_that_cannot_be_written_says_what_to_set(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(identity.NoIdentity, match="CRONIUM_WORKER_ID"):
        identity.take("", blocker / "run", HOST)


def test_the_default_host_name_is_this_machines(tmp_path: Path):
    import socket

    with identity.take("", tmp_path) as me:
        assert me.worker_id == f"{socket.gethostname()}-0"
