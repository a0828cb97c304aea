"""Secrets never reach a stored log line: every occurrence of a secret
value (of MIN_SECRET_CHARS or more) is replaced by `***` before a line, a
job's error or its output is written.

Which secrets: the job's secret environment variables, every secret
variable of its owner (a script may read any of them) and, for a tool job,
every credential of its tool. Which forms: the
value itself, URL-encoded (quote and quote_plus), and in base64 (standard
and URL-safe, with or without padding, and the part of it that stays the
same wherever the value sits in a longer base64 text). A secret split across
two lines, or otherwise transformed, is not found: masking is a safety net
for accidents, not a guarantee against a script that means to leak.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus

import sqlalchemy as sa
from sqlmodel import Session

from cronium_app import sealing
from cronium_app.models import Job, Tool, Variable
from cronium_app.settings import Settings
from cronium_app.tools import service as tools_service

MASK = "***"
MIN_SECRET_CHARS = 4
# A base64 fragment this short would hide innocent text too.
MIN_BASE64_CORE_CHARS = 6
_JOBS_REMEMBERED = 2048


def secret_forms(value: str) -> set[str]:
    """The texts that reveal `value` in a log."""
    if len(value) < MIN_SECRET_CHARS:
        return set()
    raw = value.encode("utf-8")
    forms = {value, quote(value, safe=""), quote_plus(value)}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        forms.update({whole, whole.rstrip("=")})
        forms.update(_base64_cores(raw, encode))
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


def _base64_cores(raw: bytes, encode) -> set[str]:
    """For each of the three ways `raw` can sit in a longer text's base64,
    the characters that depend on `raw` alone."""
    cores = set()
    for offset in range(3):
        encoded = encode(b"\0" * offset + raw).decode("ascii").rstrip("=")
        # Characters touching the padding bytes before, or the partial
        # group after, change with the neighbouring text.
        start = -(-offset * 4 // 3) if offset else 0
        end = (offset + len(raw)) // 3 * 4
        core = encoded[start:end]
        if len(core) >= MIN_BASE64_CORE_CHARS:
            cores.add(core)
    return cores


class Masker:
    def __init__(self, secrets: frozenset[str]):
        forms = set().union(*(secret_forms(secret) for secret in secrets)) if secrets else set()
        # Longest first: a value that contains another is masked whole.
        self._pattern = re.compile("|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))) if forms else None

    @property
    def hides_anything(self) -> bool:
        """False for a job without secrets: its lines need no look at all."""
        return self._pattern is not None

    def text(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern is not None and text else text

    def value(self, value: Any) -> Any:
        """Every string in a JSON value (an output), masked."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {self.text(str(key)): self.value(item) for key, item in value.items()}
        return value


class _Remembered:
    """What this process has opened already: each job's secret environment
    (it never changes), each user's secret variables and each tool's
    credentials (until they change)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, tuple[int, frozenset[str], int | None]] = OrderedDict()
        self._variables: dict[int, tuple[tuple, frozenset[str]]] = {}
        self._tools: OrderedDict[int, tuple[Any, frozenset[str]]] = OrderedDict()

    def job(self, session: Session, settings: Settings, job_id: str) -> tuple[int, frozenset[str], int | None] | None:
        with self._lock:
            if job_id in self._jobs:
                self._jobs.move_to_end(job_id)
                return self._jobs[job_id]
        row = session.execute(sa.select(Job.workspace_id, Job.execution).where(Job.id == job_id)).first()
        if row is None:
            return None
        secret = (row.execution or {}).get("secretEnv")
        values = frozenset()
        if secret:
            opened = sealing.unseal(settings.secret_key, sealing.SECRET_ENV, secret["sealed"], what="secret environment")
            values = frozenset(opened.values())
        tool_id = ((row.execution or {}).get("tool") or {}).get("toolId")
        found = (row.workspace_id, values, tool_id if isinstance(tool_id, int) else None)
        with self._lock:
            self._jobs[job_id] = found
            while len(self._jobs) > _JOBS_REMEMBERED:
                self._jobs.popitem(last=False)
        return found

    def tool(self, session: Session, settings: Settings, workspace_id: int, tool_id: int) -> frozenset[str]:
        tool = session.get(Tool, tool_id)
        if tool is None or tool.workspace_id != workspace_id:
            return frozenset()
        with self._lock:
            known = self._tools.get(tool_id)
        if known is not None and known[0] == tool.updated_at:
            return known[1]
        values = frozenset(tools_service.secret_texts(settings, tool))
        with self._lock:
            self._tools[tool_id] = (tool.updated_at, values)
            while len(self._tools) > _JOBS_REMEMBERED:
                self._tools.popitem(last=False)
        return values

    def variables(self, session: Session, settings: Settings, workspace_id: int) -> frozenset[str]:
        rows = session.execute(
            sa.select(Variable.id, Variable.updated_at, Variable.sealed_value)
            .where(Variable.workspace_id == workspace_id, Variable.secret.is_(True))
            .order_by(Variable.id)
        ).all()
        version = tuple((row.id, row.updated_at) for row in rows)
        with self._lock:
            known = self._variables.get(workspace_id)
        if known is not None and known[0] == version:
            return known[1]
        values = set()
        for row in rows:
            try:
                opened = sealing.unseal(settings.secret_key, sealing.SECRET_VARIABLE, row.sealed_value, what="a secret variable")
            except sealing.Unreadable:
                continue  # nobody can read it back, so nobody can print it
            values.update(_strings_in(opened))
        with self._lock:
            self._variables[workspace_id] = (version, frozenset(values))
        return frozenset(values)


def _strings_in(value: Any) -> set[str]:
    """A secret variable may hold any JSON: each string or number in it is a
    secret, and so is the compact JSON text of each list or object."""
    if isinstance(value, str):
        return {value}
    if value is None or isinstance(value, bool):
        return set()
    if isinstance(value, (int, float)):
        return {str(value)}
    found = {json.dumps(value, separators=(",", ":"), ensure_ascii=False)}
    for item in value.values() if isinstance(value, dict) else value:
        found |= _strings_in(item)
    return found


_remembered = _Remembered()


@lru_cache(maxsize=256)
def _masker(secrets: frozenset[str]) -> Masker:
    return Masker(secrets)


def masker_for_job(session: Session, settings: Settings, job_id: str) -> Masker:
    found = _remembered.job(session, settings, job_id)
    if found is None:
        return _masker(frozenset())
    workspace_id, env_values, tool_id = found
    secrets = env_values | _remembered.variables(session, settings, workspace_id)
    if tool_id is not None:
        secrets |= _remembered.tool(session, settings, workspace_id, tool_id)
    return _masker(secrets)
