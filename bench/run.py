"""Run Cronium's benchmarks: `python -m bench.run [--only NAME] [--quick]`.

Each suite measures a set of figures (name -> number, the unit at the end of
the name) and says which figure each one is compared with (its baseline,
measured in the same run). The run prints a table and merges the figures into
bench/results.json.

To add a suite: write bench/<name>.py with `run(suite: bench.suite.Suite)`
and `BASELINES = {figure: baseline_figure}`, and add it to SUITES below.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bench import Options, deploy, foundation, metrics, remote, results, retention, runtime, scheduler, ui, worker
from bench.suite import Suite


@dataclass(frozen=True)
class Registered:
    run: Callable[[Suite], None]
    baselines: Mapping[str, str] = field(default_factory=dict)
    about: str = ""


# name -> suite, in the order they run.
SUITES: dict[str, Registered] = {
    "foundation": Registered(
        foundation.run,
        foundation.BASELINES,
        "create-job throughput (public API) and claim throughput (orchestrator API), SQLite and PostgreSQL",
    ),
    "worker": Registered(
        worker.run,
        worker.BASELINES,
        "container worker vs raw docker run: e2e latency, throughput, log ingest, cancel, concurrency, completion (SQLite)",
    ),
    "scheduler": Registered(
        scheduler.run,
        scheduler.BASELINES,
        "1,000 schedules firing every minute: fire time -> job created, SQLite and PostgreSQL",
    ),
    "ui": Registered(
        ui.run,
        ui.BASELINES,
        "web UI in Chromium: live-log latency (print -> painted) and the jobs list with 100,000 jobs (SQLite)",
    ),
    "runtime": Registered(
        runtime.run,
        runtime.BASELINES,
        "runtime helpers and workflows: get_variable from a container vs the public API, a 10-step chain vs 10 client executes (SQLite)",
    ),
    "metrics": Registered(
        metrics.run,
        metrics.BASELINES,
        "/metrics scrape time with 1,000,000 jobs in the database vs the same scrape on an empty one, SQLite and PostgreSQL",
    ),
    "retention": Registered(
        retention.run,
        retention.BASELINES,
        "history retention: one cleaner pass over 100,000 jobs and 5,000,000 log lines, and claim p95 during it vs without it (SQLite and PostgreSQL)",
    ),
    "remote": Registered(
        remote.run,
        remote.BASELINES,
        "SSH servers: a trivial job on 1, 5 and 20 servers at once vs one server, and connection reuse (SQLite, sshd on loopback)",
    ),
    "deploy": Registered(
        deploy.run,
        deploy.BASELINES,
        "the compose stack: image sizes, build time, cold start (up -> serving), first job through the proxy",
    ),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME", choices=sorted(SUITES),
                        help="run only this suite (repeatable); one of: " + ", ".join(SUITES))
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a fast check")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw",
                        help="load client: raw keep-alive HTTP/1.1 (default, cheap) or httpx.AsyncClient")
    parser.add_argument("--no-write", action="store_true", help="print the table but leave bench/results.json alone")
    return parser.parse_args(argv)


def _terminate_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so every started app gets stopped."""

    def handler(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _terminate_on_sigterm()
    options = Options(quick=args.quick, client=args.client)
    names = args.only or list(SUITES)
    figures: dict[str, float] = {}
    baselines: dict[str, str] = {}
    failed: list[str] = []
    began = time.monotonic()
    for name in names:
        registered = SUITES[name]
        suite = Suite(name, options, registered.baselines)
        print(f"== {name}{' (quick)' if options.quick else ''}: {registered.about}", flush=True)
        suite_began = time.monotonic()
        try:
            suite.guard("", lambda: registered.run(suite))
        except KeyboardInterrupt:
            print(f"interrupted during {name}", file=sys.stderr)
            return 130
        figures.update(suite.figures)
        baselines.update(suite.baselines)
        if suite.problems:
            failed.append(f"{name}: {'; '.join(suite.problems)}")
        print(f"== {name} took {time.monotonic() - suite_began:.0f}s", flush=True)

    print()
    if figures:
        print(results.table(figures, baselines))
        if not args.no_write:
            results.merge(figures)
            print(f"\n{len(figures)} figures merged into {results.RESULTS_PATH.relative_to(results.RESULTS_PATH.parents[1])}"
                  f" ({time.monotonic() - began:.0f}s in all)")
    else:
        print("no figures measured")
    for failure in failed:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
