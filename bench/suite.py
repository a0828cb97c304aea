"""What every suite shares: its figures and their baselines, its timed
phases, its run once per database, its goals.

bench/run.py makes one `Suite` per suite it runs and hands it to the suite
module's `run(suite)`. The module measures and puts its figures into
`suite.figures`; whatever it recorded is printed and merged into
bench/results.json afterwards, also when a check failed or the suite
crashed half way. A suite fails when it has problems (`suite.problems`, or
a `SuiteFailed` that escapes `run`).
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bench import DATABASE_LABELS, Options, SuiteFailed, databases, fresh_app
from tests.support.app_server import AppServer

# A goal printed at the end of a suite: figure, "<", "<=" or ">=", the goal.
Goal = tuple[str, str, float]
_MEETS = {"<": lambda value, goal: value < goal, "<=": lambda value, goal: value <= goal,
          ">=": lambda value, goal: value >= goal}


@dataclass(frozen=True)
class Target:
    """One database's app, for a suite measured on every database."""

    label: str  # one of bench.DATABASE_LABELS: goes into the figure names
    app: AppServer  # on a fresh database

    @property
    def url(self) -> str:
        return self.app.database_url


class Suite:
    """One run of one suite."""

    def __init__(self, name: str, options: Options, baselines: Mapping[str, str] | None = None):
        self.name = name
        self.options = options
        # figure -> the figure it is shown against (value / baseline, same run).
        self.baselines: Mapping[str, str] = dict(baselines or {})
        self.figures: dict[str, float] = {}
        self.problems: list[str] = []

    def say(self, text: str) -> None:
        print(f"[{self.name}] {text}", flush=True)

    def guard(self, what: str, fn: Callable[[], Any]) -> bool:
        """Run `fn`. A failed check (AssertionError, SuiteFailed) or a crash
        becomes one of the suite's problems, named `what`, and the suite goes
        on with what comes next. True when `fn` got through."""
        prefix = f"{what}: " if what else ""
        try:
            fn()
            return True
        except (AssertionError, SuiteFailed) as exc:
            self.problems.append(f"{prefix}{exc}")
            self.say(f"{prefix}FAILED: {exc}")
        except Exception as exc:
            traceback.print_exc()
            self.problems.append(f"{prefix}{type(exc).__name__}: {exc}")
        return False

    def phase(self, name: str, fn: Callable[[], Any]) -> bool:
        """`guard`, and say how long the phase took."""
        began = time.monotonic()
        try:
            return self.guard(name, fn)
        finally:
            self.say(f"{name} took {time.monotonic() - began:.0f}s")

    def per_database(self, measure: Callable[[Target], Any], **app_env: str) -> None:
        """`measure` once per database (bench.databases()), each time against
        a new app on a fresh, migrated database, started with `app_env`. A
        database that fails does not keep the next one from being measured."""
        for db in databases(note=self.say):

            def on_fresh_app(db=db) -> None:
                self.say(f"{db.label}: starting the app on a fresh database")
                with fresh_app(db, **app_env) as app:
                    measure(Target(db.label, app))

            self.phase(db.label, on_fresh_app)

    def ratio(self, figure: str) -> float:
        """`figure` / its baseline, both measured in this run."""
        return self.figures[figure] / self.figures[self.baselines[figure]]

    def print_goals(self, goals: Iterable[Goal]) -> None:
        """Say whether each measured figure met its goal (not a failure)."""
        for name, op, goal in goals:
            if name in self.figures:
                value = self.figures[name]
                self.say(f"goal {name} {op} {goal}: {value:.4g} -> {'met' if _MEETS[op](value, goal) else 'MISSED'}")


def per_database_baselines(pairs: Mapping[str, str]) -> dict[str, str]:
    """Baselines of a suite measured on every database: `pairs` names them
    with `{db}` where the database's label goes."""
    return {
        figure.format(db=label): baseline.format(db=label)
        for label in DATABASE_LABELS
        for figure, baseline in pairs.items()
    }


def load_average() -> str:
    """The machine's load average, for the log: figures on a busy machine are noisier."""
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"
