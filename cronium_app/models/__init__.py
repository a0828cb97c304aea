"""All tables. Importing this module registers them on SQLModel.metadata."""

from sqlmodel import SQLModel

from cronium_app.models.audit import AuditEntry
from cronium_app.models.events import Event, EventStatus, EventType, Network
from cronium_app.models.jobs import Job
from cronium_app.models.logs import ExecutionLog
from cronium_app.models.retention import RetentionPass
from cronium_app.models.schedule import ScheduleColumns, ScheduleType
from cronium_app.models.servers import Server
from cronium_app.models.tools import EventAction, JobAction, Tool, WebhookTrigger
from cronium_app.models.users import ApiToken, Invitation, OidcIdentity, PasswordReset, Role, Theme, User
from cronium_app.models.variables import Variable
from cronium_app.models.workers import JobTally, Worker
from cronium_app.models.workspaces import Workspace, WorkspaceMember, WorkspaceRole
from cronium_app.models.workflows import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep

metadata = SQLModel.metadata

__all__ = [
    "ApiToken", "AuditEntry", "Event", "EventAction", "EventStatus", "EventType", "ExecutionLog", "Invitation", "Job",
    "JobAction", "JobTally", "Network", "OidcIdentity", "PasswordReset", "RetentionPass", "Role", "ScheduleColumns",
    "ScheduleType", "Server", "Theme", "Tool", "User", "WebhookTrigger", "Variable", "Worker", "Workflow",
    "WorkflowEdge", "WorkflowRun", "WorkflowStep", "Workspace", "WorkspaceMember", "WorkspaceRole", "metadata",
]
