"""bench/results.json and the printed table.

results.json is a flat JSON object, figure name -> number, with the unit at
the end of the name (`create_job_api_sqlite_jobs_per_s`, `..._p95_ms`,
`..._count`). A run merges its figures into the file: figures it measured are
replaced, all others (other suites, a database skipped this time) are kept.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

RESULTS_PATH = Path(__file__).resolve().parent / "results.json"

# Name suffix -> unit shown in the table. Longest match wins; `X_per_s` is
# handled separately (`jobs_per_s` -> `jobs/s`).
UNIT_SUFFIXES = {
    "_ms": "ms",
    "_s": "s",
    "_count": "count",
    "_bytes": "B",
    "_mb": "MB",
    "_pct": "%",
    "_ratio": "x",
}


def unit_of(name: str) -> str:
    if name.endswith("_per_s"):
        what = name[: -len("_per_s")].rsplit("_", 1)[-1]
        return f"{what}/s"
    for suffix in sorted(UNIT_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return UNIT_SUFFIXES[suffix]
    return ""


def load(path: Path = RESULTS_PATH) -> dict[str, float]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def clean(figures: Mapping[str, float]) -> dict[str, float]:
    """Round for storage: integers stay integers, others keep 4 significant decimals."""
    out: dict[str, float] = {}
    for name, value in figures.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"figure {name!r} must be a finite number, got {value!r}")
        out[name] = value if isinstance(value, int) else round(float(value), 4)
    return out


def merge(figures: Mapping[str, float], path: Path = RESULTS_PATH) -> dict[str, float]:
    """Merge `figures` into the file (atomically) and return the whole content."""
    data = load(path)
    data.update(clean(figures))
    data = dict(sorted(data.items()))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results.", suffix=".json")
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)
    return data


def format_value(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 100:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_ratio(value: float, baseline: float | None) -> str:
    if baseline is None or baseline == 0:
        return ""
    return f"{value / baseline:.2f}x"


def table(figures: Mapping[str, float], baselines: Mapping[str, str] | None = None) -> str:
    """An aligned table: figure, value, unit, and (when the figure has a
    baseline measured in the same run) value/baseline and the baseline's name."""
    baselines = baselines or {}
    rows = [("figure", "value", "unit", "vs baseline", "baseline")]
    for name, value in figures.items():
        base_name = baselines.get(name)
        base_value = figures.get(base_name) if base_name else None
        rows.append(
            (
                name,
                format_value(value),
                unit_of(name),
                format_ratio(value, base_value),
                base_name if base_value is not None else "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = {1, 3}  # numbers align right

    def line(row: tuple[str, ...]) -> str:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])
