"""The events page's Export and Import: the user's document as a YAML file,
and a document pasted in, planned (the same plan `cronium apply` prints),
then applied only as planned."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, TypedDict

import reflex as rx

from cronium_app.auth.access import Access
from cronium_app.ascode import export as ascode_export
from cronium_app.ascode import parse, sync
from cronium_app.db import read_session, write_session
from cronium_app.errors import CroniumError
from cronium_app.settings import get_settings
from cronium_app.state.base import AppState
from cronium_app.state.events import EventListState

logger = logging.getLogger(__name__)

MARK = {"create": "+", "update": "~", "unchanged": "=", "delete": "-"}
SOURCE = "import.yaml"


class PlanRow(TypedDict):
    mark: str
    action: str
    kind: str
    name: str
    fields: str


def _export(access: Access) -> str:
    with read_session() as session:
        return ascode_export.export(session, access).text


def _plan(access: Access, text: str, prune: bool) -> dict[str, Any]:
    parsed = parse.parse([parse.Source(SOURCE, text)])
    with read_session() as session:
        return sync.make_plan(session, get_settings(), access, parsed, prune=prune).to_dict()


def _apply(access: Access, text: str, prune: bool, fingerprint: str) -> dict[str, Any]:
    parsed = parse.parse([parse.Source(SOURCE, text)])
    with write_session() as session:
        return sync.apply(session, get_settings(), access, parsed, prune=prune, fingerprint=fingerprint).to_dict()


def plan_rows(plan: dict[str, Any]) -> list[PlanRow]:
    return [PlanRow(mark=MARK[c["action"]], action=c["action"], kind=c["kind"], name=c["name"],
                    fields=", ".join(c["fields"])) for c in plan["changes"]]


def plan_summary(summary: dict[str, int]) -> str:
    return (f"{summary['create']} to create, {summary['update']} to update, {summary['delete']} to delete, "
            f"{summary['unchanged']} unchanged")


class AsCodeState(AppState):
    import_open: bool = False
    document: str = ""
    prune: bool = False
    rows: list[PlanRow] = []
    summary: str = ""
    warnings: list[str] = []
    error: str = ""
    fingerprint: str = ""
    changes: bool = False
    busy: bool = False

    def _clear_plan(self) -> None:
        self.rows, self.summary, self.warnings, self.error, self.fingerprint, self.changes = [], "", [], "", "", False

    @rx.event
    def set_import_open(self, value: bool):
        self.import_open = value
        if not value:
            self.document, self.prune = "", False
            self._clear_plan()

    @rx.event
    def set_document(self, value: str):
        self.document = value
        self._clear_plan()  # a plan is of the text it was made from

    @rx.event
    def set_prune(self, value: bool):
        self.prune = value
        self._clear_plan()

    async def _run(self, work, *args):
        """`work(access, ...)` in a thread; a refusal becomes the message shown."""
        try:
            return await asyncio.to_thread(work, self._access, *args)
        except CroniumError as exc:
            self.error = exc.message
        except Exception:
            logger.exception("events as code failed")
            self.error = "This could not be done. Try again."
        return None

    @rx.event
    async def export(self):
        text = await self._run(_export)
        if text is None:
            yield rx.toast.error(self.error, id="ascode-result")
            self.error = ""
            return
        yield rx.download(data=text, filename="cronium.yaml", mime_type="application/yaml")

    @rx.event
    async def plan(self):
        if self.busy:
            return
        self._clear_plan()
        self.busy = True
        yield
        plan = await self._run(_plan, self.document, self.prune)
        self.busy = False
        if plan is None:
            return
        self.rows, self.summary, self.warnings = plan_rows(plan), plan_summary(plan["summary"]), plan["warnings"]
        self.fingerprint = plan["fingerprint"]
        self.changes = any(plan["summary"][action] for action in ("create", "update", "delete"))

    @rx.event
    async def apply(self):
        if self.busy or not self.changes:
            return
        self.busy = True
        yield
        plan = await self._run(_apply, self.document, self.prune, self.fingerprint)
        self.busy = False
        if plan is None:
            return
        self.set_import_open(False)
        yield rx.toast.success(f"Applied: {plan_summary(plan['summary'])}.", id="ascode-result")
        yield EventListState.load
