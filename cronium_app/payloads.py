"""JSON values users and scripts hand us (a job's input and output, a
variable's value): their size as stored, and the limit on it."""

from __future__ import annotations

import json
from typing import Any

from cronium_app.errors import TooLarge
from cronium_app.settings import Settings


def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def check_io_size(value: Any, settings: Settings, what: str) -> None:
    if value is None:
        return
    size = json_size(value)
    if size > settings.job_io_max_bytes:
        raise TooLarge(f"{what} is {size} bytes as JSON; the limit is {settings.job_io_max_bytes} bytes")
