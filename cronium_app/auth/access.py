"""Who may do what in a workspace: the one place a role is turned into a
yes or a no.

Each request (an API call with a token, a UI event, a script's helper call)
builds one `Access` for the workspace it acts in, and hands it to the
services. A service scopes its queries with `access.scope(Model)` /
`access.owns(row)` and checks the role with `access.require(...)` before it
changes anything. Routes and UI handlers never compare roles themselves:
hiding a button is for the eye, the service's check is what holds.

| role   | read | run events/workflows, cancel jobs | change definitions | members, rename, delete |
|--------|------|-----------------------------------|--------------------|-------------------------|
| owner  | yes  | yes                               | yes                | yes                     |
| editor | yes  | yes                               | yes                | no                      |
| runner | yes  | yes                               | no                 | no                      |
| viewer | yes  | no                                | no                 | no                      |

No role ever reads a secret value (env var secrets, secret variables, tool
and server credentials): they are write-only for everyone; only a job's
script gets them, at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlmodel import Session, select

from cronium_app.errors import Forbidden, NotFound
from cronium_app.models import WorkspaceMember, WorkspaceRole

# Higher is more.
RANK = {WorkspaceRole.viewer.value: 1, WorkspaceRole.runner.value: 2, WorkspaceRole.editor.value: 3,
        WorkspaceRole.owner.value: 4}


class Ability(str, Enum):
    read = "read"
    run = "run"
    edit = "edit"
    manage = "manage"


# The least role that has each ability.
LEAST_ROLE = {
    Ability.read: WorkspaceRole.viewer.value,
    Ability.run: WorkspaceRole.runner.value,
    Ability.edit: WorkspaceRole.editor.value,
    Ability.manage: WorkspaceRole.owner.value,
}


def check_role(role: str) -> str:
    if role not in RANK:
        raise ValueError(f"unknown role {role!r}")
    return role


def lower_role(a: str, b: str) -> str:
    return a if RANK[a] <= RANK[b] else b


def role_allows(role: str, ability: Ability) -> bool:
    return RANK.get(role, 0) >= RANK[LEAST_ROLE[ability]]


@dataclass(frozen=True)
class Access:
    """A caller acting in one workspace with one role. `user_id` is the
    person (the creator of a token, the job's owner for a script): rows a
    service creates record them as "created by"."""

    user_id: int
    workspace_id: int
    role: str

    @property
    def can_read(self) -> bool:
        return role_allows(self.role, Ability.read)

    @property
    def can_run(self) -> bool:
        return role_allows(self.role, Ability.run)

    @property
    def can_edit(self) -> bool:
        return role_allows(self.role, Ability.edit)

    @property
    def can_manage(self) -> bool:
        return role_allows(self.role, Ability.manage)

    def require(self, ability: Ability, what: str) -> None:
        """Forbidden, with words, unless the role has `ability`; `what` says
        what was refused ("change events")."""
        if not role_allows(self.role, ability):
            raise Forbidden(
                f"your role in this workspace is {self.role}: it cannot {what} "
                f"(that takes {LEAST_ROLE[ability]} or higher)"
            )

    def scope(self, model: Any) -> Any:
        """The WHERE clause that keeps a query inside this workspace."""
        return model.workspace_id == self.workspace_id

    def owns(self, row: Any) -> bool:
        """The row exists and belongs to this workspace."""
        return row is not None and row.workspace_id == self.workspace_id

    @classmethod
    def on_behalf_of(cls, row: Any) -> "Access":
        """What the app itself does for a row of a workspace (the scheduler
        firing an event, a retry, a webhook trigger, a conditional action):
        it acts as the row's creator, with every right in the row's
        workspace, since whoever set it up was allowed to."""
        return cls.of_app(row.user_id, row.workspace_id)

    @classmethod
    def of_app(cls, user_id: int, workspace_id: int) -> "Access":
        """The app acting in a workspace for one of its jobs (a worker's
        claim, a script's helper): see `on_behalf_of`."""
        return cls(user_id=user_id, workspace_id=workspace_id, role=WorkspaceRole.owner.value)


def member_role(session: Session, user_id: int, workspace_id: int) -> str | None:
    return session.exec(
        select(WorkspaceMember.role).where(WorkspaceMember.user_id == user_id, WorkspaceMember.workspace_id == workspace_id)
    ).first()


def access_for(session: Session, user_id: int, workspace_id: int, *, capped_at: str | None = None) -> Access:
    """The access of a member (their role, lowered to `capped_at` when a
    token carries a lower one). Not a member: NotFound, as if the workspace
    did not exist (a stranger learns nothing)."""
    role = member_role(session, user_id, workspace_id)
    if role is None:
        raise NotFound(f"workspace {workspace_id} not found")
    if capped_at is not None:
        role = lower_role(role, capped_at)
    return Access(user_id=user_id, workspace_id=workspace_id, role=role)
