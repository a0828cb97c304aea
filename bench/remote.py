"""Figures of the remote-servers issue: what a trivial job (`true`) costs on
1, 5 and 20 SSH servers at once, next to the same job on one server, and
whether a second job on a server reuses the worker's pooled connection.

One app (a subprocess on a fresh, migrated SQLite database), one real
worker, and one real OpenSSH server (tests/support/sshd.py) listening on
127.0.0.2 ... 127.0.0.21: each address is registered as its own server, so
the worker opens and pools one connection per address, as it would for 20
machines. Nothing leaves loopback.

Phases (rounds full / --quick):
1. Raw floor: `true` over an already open asyncssh connection (one channel
   round trip), 20 / 5 times: what SSH itself costs once connected; and the
   same on 20 open connections at once, which shows what 20 "servers" that
   share this machine's cores cost each other (real servers would not).
2. Warm-up: one job on all 20 servers, so every connection is open.
3. Wall time of a `true` job, from the job's creation to its completion
   (the app's own timestamps), on 1, 5 and 20 servers, 5 / 2 rounds each,
   sizes interleaved. Goal: 20 servers under 2x one server's time.
4. Reuse: sshd's count of logins before and after 3 more jobs on one warm
   server (expected: no new login), next to the logins of the first job on a
   fresh server (1).

The suite fails when a job does not complete or a server's result is missing.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from typing import Any

import asyncssh

from bench import SQLITE, SuiteFailed, fresh_app, percentile
from bench.suite import Suite
from bench.worker import running_worker, ts
from tests.support.clients import UserClient, register_user, wait_for_job
from tests.support.sshd import SshdHosts

SIZES = (1, 5, 20)
WORKER_CONCURRENCY = 8

BASELINES = {
    "remote_1_server_job_p50_ms": "raw_ssh_exec_warm_p50_ms",
    "remote_5_servers_job_p50_ms": "remote_1_server_job_p50_ms",
    "remote_20_servers_job_p50_ms": "remote_1_server_job_p50_ms",
    "remote_reused_job_new_connections_count": "remote_first_job_new_connections_count",
    "raw_ssh_exec_warm_20_at_once_p50_ms": "raw_ssh_exec_warm_p50_ms",
    "remote_20_servers_machine_cpu_per_job_ms": "remote_1_server_machine_cpu_per_job_ms",
}


async def _raw_floor(sshd: SshdHosts, servers: int, rounds: int) -> list[float]:
    """`true` on `servers` already open connections at once (one channel
    each), `rounds` times: SSH's own cost, and on this one machine the cost
    of its sshd starting that many sessions together."""
    key = asyncssh.import_private_key(sshd.private_key)
    conns = [
        await asyncssh.connect(address, sshd.port, username=sshd.user, known_hosts=None, agent_path=None,
                               config=None, client_keys=[key])
        for address in sshd.addresses[:servers]
    ]
    samples = []
    try:
        for _ in range(rounds):
            began = time.perf_counter()
            await asyncio.gather(*(conn.run("true", check=True) for conn in conns))
            samples.append((time.perf_counter() - began) * 1000)
    finally:
        for conn in conns:
            conn.close()
    return samples


def _servers(user: UserClient, sshd: SshdHosts) -> list[dict[str, Any]]:
    made = []
    for index, address in enumerate(sshd.addresses):
        reply = user.http.post("/api/v1/servers", json={
            "name": f"bench-{index + 1:02d}", "host": address, "port": sshd.port, "username": sshd.user,
            "authType": "key", "privateKey": sshd.private_key,
        })
        if reply.status_code != 201:
            raise SuiteFailed(f"could not add a server: {reply.text}")
        made.append(reply.json())
    return made


def _busy_ms() -> float:
    """CPU time the whole machine has spent busy (all cores), from /proc/stat."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) * 1000 / os.sysconf("SC_CLK_TCK")


def _job_ms(user: UserClient, event_id: int, servers: int) -> float:
    job = wait_for_job(user, user.execute(event_id), timeout=120)
    results = (job.get("result") or {}).get("servers") or []
    if job["status"] != "completed" or len(results) != servers:
        raise SuiteFailed(f"a {servers}-server job ended {job['status']} with {len(results)} results: {job.get('error')}")
    return (ts(job["completedAt"]) - ts(job["createdAt"])) * 1000


def run(suite: Suite) -> None:
    options, figures = suite.options, suite.figures
    rounds = options.pick(5, 2)
    with SshdHosts(count=max(SIZES)) as sshd, \
            fresh_app(SQLITE, "cronium_bench_remote") as app, \
            running_worker(app, f"bench-remote-{secrets.token_hex(3)}", WORKER_CONCURRENCY):
        figures["raw_ssh_exec_warm_p50_ms"] = percentile(asyncio.run(_raw_floor(sshd, 1, options.pick(20, 5))), 50)
        figures["raw_ssh_exec_warm_20_at_once_p50_ms"] = percentile(asyncio.run(_raw_floor(sshd, 20, options.pick(20, 5))), 50)
        user = register_user(app.url)
        servers = _servers(user, sshd)
        events = {
            size: user.create_event(name=f"true on {size}", script="true", serverIds=[s["id"] for s in servers[:size]])["id"]
            for size in SIZES
        }
        suite.say("warming up: one job on all servers")
        _job_ms(user, events[max(SIZES)], max(SIZES))
        samples: dict[int, list[float]] = {size: [] for size in SIZES}
        busy: dict[int, float] = dict.fromkeys(SIZES, 0.0)
        for round_no in range(rounds):
            for size in SIZES:
                before = _busy_ms()
                samples[size].append(_job_ms(user, events[size], size))
                busy[size] += _busy_ms() - before
            suite.say(f"round {round_no + 1}/{rounds}: " + ", ".join(f"{s} servers {samples[s][-1]:.0f} ms" for s in SIZES))
        for size in SIZES:
            name = "remote_1_server_job_p50_ms" if size == 1 else f"remote_{size}_servers_job_p50_ms"
            figures[name] = percentile(samples[size], 50)
        figures["remote_20_vs_1_server_ratio"] = suite.ratio("remote_20_servers_job_p50_ms")
        # Is the machine the limit? CPU the whole machine (app, worker, every
        # sshd and script, anything else running) spent per job, and how much
        # of all cores' time that was while the 20-server jobs ran.
        for size in (1, max(SIZES)):
            figures[f"remote_{size}_server{'s' if size > 1 else ''}_machine_cpu_per_job_ms"] = busy[size] / rounds
        cores = os.cpu_count() or 1
        figures["remote_20_servers_cpu_busy_pct"] = 100 * busy[max(SIZES)] / (cores * sum(samples[max(SIZES)]))

        fresh = user.http.post("/api/v1/servers", json={
            "name": "bench-fresh", "host": sshd.addresses[0], "port": sshd.port, "username": sshd.user,
            "authType": "password", "password": sshd.password,
        }).json()
        fresh_event = user.create_event(name="true on a fresh server", script="true", serverIds=[fresh["id"]])["id"]
        before = sshd.logins()
        _job_ms(user, fresh_event, 1)
        figures["remote_first_job_new_connections_count"] = sshd.logins() - before
        before = sshd.logins()
        for _ in range(3):
            _job_ms(user, fresh_event, 1)
        figures["remote_reused_job_new_connections_count"] = sshd.logins() - before
