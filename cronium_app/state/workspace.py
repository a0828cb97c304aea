"""The workspace settings page: the current workspace's members and roles,
rename, delete (owners), and a new team workspace (anyone). Every change
goes through workspaces/service.py with the tab's Access, which checks the
role; the page only hides what the role cannot do."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, TypedDict

import reflex as rx

from cronium_app import routes
from cronium_app.auth.access import Access
from cronium_app.db import read_session, write_session
from cronium_app.display.messages import sentence
from cronium_app.errors import CroniumError
from cronium_app.models import WorkspaceRole
from cronium_app.state.base import AppState
from cronium_app.workspaces import service

logger = logging.getLogger(__name__)
ROLE_CHOICES = [role.value for role in WorkspaceRole]


class MemberRow(TypedDict):
    user_id: str
    email: str
    role: str


def _members(access: Access) -> list[dict[str, Any]]:
    with read_session() as session:
        return service.members(session, access)


def _change(work, access: Access, *args: Any) -> Any:
    with write_session() as session:
        return work(session, access, *args)


def _create(user_id: int, name: str) -> dict[str, Any]:
    with write_session() as session:
        return service.create_team(session, user_id, name)


class WorkspaceState(AppState):
    members: list[MemberRow] = []
    new_name: str = ""
    rename_to: str = ""
    member_email: str = ""
    member_role: str = WorkspaceRole.viewer.value
    delete_confirm: str = ""
    error: str = ""
    loaded: bool = False

    @rx.event
    async def load(self):
        if (go := await self._require_user()) is not None:
            return go
        self.rename_to = self.workspace_name
        await self._load_members()
        self.loaded = True
        return None

    async def _load_members(self) -> None:
        try:
            rows = await asyncio.to_thread(_members, self._access)
        except Exception:
            logger.exception("workspace members failed")
            self.error = "The members could not be loaded."
            return
        self.members = [{"user_id": str(r["userId"]), "email": r["email"], "role": r["role"]} for r in rows]

    async def _run(self, work, *args: Any, done: str):
        """(done, toast) of a change through the service; a refusal becomes the toast."""
        try:
            await asyncio.to_thread(_change, work, self._access, *args)
        except CroniumError as exc:
            return False, rx.toast.error(sentence(exc.message), id="workspace-result")
        except Exception:
            logger.exception("workspace change failed")
            return False, rx.toast.error("The change failed. Try again.", id="workspace-result")
        return True, rx.toast.success(done, id="workspace-result")

    @rx.event
    def set_new_name(self, value: str):
        self.new_name = value[:service.NAME_MAX]

    @rx.event
    def set_rename_to(self, value: str):
        self.rename_to = value[:service.NAME_MAX]

    @rx.event
    def set_member_email(self, value: str):
        self.member_email = value[:320]

    @rx.event
    def set_member_role(self, value: str):
        if value in ROLE_CHOICES:
            self.member_role = value

    @rx.event
    def set_delete_confirm(self, value: str):
        self.delete_confirm = value[:service.NAME_MAX]

    @rx.event
    async def create_workspace(self):
        try:
            made = await asyncio.to_thread(_create, self._user_id, self.new_name)
        except CroniumError as exc:
            return rx.toast.error(sentence(exc.message), id="workspace-result")
        self.new_name = ""
        await self._refresh_workspace(made["id"])
        return rx.call_script("window.location.reload()")

    @rx.event
    async def rename(self):
        _, toast = await self._run(service.rename, self.rename_to, done="Renamed.")
        await self._refresh_workspace()
        return toast

    @rx.event
    async def add_member(self):
        added, toast = await self._run(service.add_member, self.member_email, self.member_role, done="Member added.")
        if added:
            self.member_email = ""
            await self._load_members()
        return toast

    @rx.event
    async def change_role(self, user_id: str, role: str):
        if not user_id.isdigit() or len(user_id) > 12:
            return None
        _, toast = await self._run(service.set_role, int(user_id), role, done="Role changed.")
        await self._load_members()
        await self._refresh_workspace()
        return toast

    @rx.event
    async def remove_member(self, user_id: str):
        if not user_id.isdigit() or len(user_id) > 12:
            return None
        _, toast = await self._run(service.remove_member, int(user_id), done="Member removed.")
        await self._load_members()
        await self._refresh_workspace()
        return toast

    @rx.event
    async def delete_workspace(self):
        deleted, toast = await self._run(service.delete, self.delete_confirm, done="Workspace deleted.")
        if deleted:
            self.delete_confirm = ""
            await self._refresh_workspace(0)
            return [toast, rx.redirect(routes.DASHBOARD)]
        return toast
