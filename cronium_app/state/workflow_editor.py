"""/workflows/new and /workflows/{id}: the workflow form, its graph, its runs.

The form keeps steps and edges as rows of text (a step's event is its id as
a string, an edge's ends are step names). Saving turns them into
`WorkflowIn`; the service checks the graph as a whole (unique names, known
steps, no cycle, the user's own events) and its message is shown next to
the steps or the edges. The graph preview is worked out from the rows as
they are typed, so it shows the shape before anything is saved.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from typing import Any, ClassVar, TypedDict

import reflex as rx
from pydantic import ValidationError

from cronium_app.auth.access import Access
from cronium_app import routes
from cronium_app.db import read_session, write_session
from cronium_app.display.formatting import fmt_duration, fmt_short, local, parse_iso
from cronium_app.display.messages import sentence, service_field_errors, validation_field_errors
from cronium_app.display.rows import Option
from cronium_app.errors import CroniumError
from cronium_app.events import service as events
from cronium_app.state.base import AppState
from cronium_app.state.editor import EditorCalls, EditorMixin
from cronium_app.state.schedule_form import SCHEDULE_KEYS, ScheduleFormMixin
from cronium_app.state.workflows import queue_workflow_run
from cronium_app.jobs import run_state
from cronium_app.workflows import service as workflows
from cronium_app.workflows.schemas import EdgeCondition, WorkflowIn

logger = logging.getLogger(__name__)

MAX_EVENTS = 500
RECENT_RUNS = 10
STATUSES = ("active", "paused", "archived")
CONDITIONS = tuple(c.value for c in EdgeCondition)
CONDITION_LABELS = {
    "always": "always",
    "on_success": "on success",
    "on_failure": "on failure",
    "on_condition": "on condition",
}
# The keys an error can be shown next to; any other goes above the form.
FIELD_KEYS = ("name", "description", "status", "tags", "steps", "edges", *SCHEDULE_KEYS.values())


class StepRow(TypedDict):
    name: str
    event_id: str


class EdgeRow(TypedDict):
    source: str
    target: str
    condition: str
    value: str  # "true" / "false": what an on_condition edge waits for


class GraphNode(TypedDict):
    name: str
    event: str


class GraphEdge(TypedDict):
    text: str
    condition: str


class RunRow(TypedDict):
    id: str
    href: str
    status: str
    created: str
    duration: str


def edge_text(source: str, target: str, condition: str, value: bool) -> str:
    label = CONDITION_LABELS.get(condition, condition)
    if condition == "on_condition":
        label += f" = {'true' if value else 'false'}"
    return f"{source} → {target} ({label})"


def graph_levels(names: list[str], edges: list[tuple[str, str]]) -> tuple[list[list[str]], list[str]]:
    """Steps by topological level (a step sits one level below its deepest
    parent), and the steps left over because they sit on a cycle."""
    parents: dict[str, list[str]] = defaultdict(list)
    children: dict[str, list[str]] = defaultdict(list)
    indegree = {name: 0 for name in names}
    for source, target in edges:
        parents[target].append(source)
        children[source].append(target)
        indegree[target] += 1
    level: dict[str, int] = {}
    ready = [name for name in names if indegree[name] == 0]
    while ready:
        name = ready.pop(0)
        level[name] = max((level[p] + 1 for p in parents[name]), default=0)
        for child in children[name]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    rows: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for name in names:  # in the order the steps were written
        if name in level:
            rows[level[name]].append(name)
    return rows, [name for name in names if name not in level]


def run_row(run: dict[str, Any], tz: str) -> RunRow:
    start, end = parse_iso(run.get("createdAt")), parse_iso(run.get("completedAt"))
    duration = fmt_duration((end - start).total_seconds() * 1000) if start and end else "—"
    return {
        "id": run["id"],
        "href": routes.workflow_run_url(run["id"]),
        "status": run["status"],
        "created": fmt_short(run.get("createdAt"), tz),
        "duration": duration,
    }


def _event_options(session, access: Access) -> list[dict[str, Any]]:
    page = events.list_events(session, access, events.EventFilter(), limit=MAX_EVENTS, offset=0)
    return sorted(page.items, key=lambda e: e["name"].lower())


def _load_new(access: Access) -> list[dict[str, Any]]:
    with read_session() as session:
        return _event_options(session, access)


def _load(access: Access, workflow_id: int) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    with read_session() as session:
        workflow = workflows.workflow_to_dict(session, workflows.get_workflow(session, access, workflow_id))
        runs = run_state.list_runs(session, access, workflow_id, limit=RECENT_RUNS, offset=0)
        return workflow, _event_options(session, access), runs


def _runs(access: Access, workflow_id: int) -> list[dict[str, Any]]:
    with read_session() as session:
        return run_state.list_runs(session, access, workflow_id, limit=RECENT_RUNS, offset=0)


def _save(access: Access, workflow_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    data = WorkflowIn.model_validate(payload)
    with write_session() as session:
        if workflow_id:
            workflow = workflows.replace_workflow(session, access, workflow_id, data)
        else:
            workflow = workflows.create_workflow(session, access, data)
        return workflows.workflow_to_dict(session, workflow)


def _delete(access: Access, workflow_id: int) -> None:
    with write_session() as session:
        workflows.delete_workflow(session, access, workflow_id)


class WorkflowEditorState(ScheduleFormMixin, EditorMixin, AppState):
    calls: ClassVar[EditorCalls] = EditorCalls(
        read_new=_load_new, read=_load, save=_save, delete=_delete,
        row_url=routes.workflow_url, list_url=routes.WORKFLOWS,
    )
    noun: ClassVar[str] = "workflow"
    new_form_reads: ClassVar[str] = "your events"

    # What the page shows (the flags and errors come from EditorMixin).
    event_options: list[Option] = []
    recent_runs: list[RunRow] = []

    # The form, as typed.
    name: str = ""
    description: str = ""
    status: str = "active"
    tags: str = ""
    steps: list[StepRow] = []
    edges: list[EdgeRow] = []

    # The graph preview, worked out from the rows.
    graph: list[list[GraphNode]] = []
    graph_edges: list[GraphEdge] = []
    graph_note: str = ""

    # The Run dialog.
    run_open: bool = False
    run_input: str = ""
    run_error: str = ""
    starting: bool = False

    @rx.var
    def step_names(self) -> list[str]:
        """The names edges can use: each written name once."""
        return self._names()

    def _names(self) -> list[str]:
        seen: list[str] = []
        for step in self.steps:
            name = step["name"].strip()
            if name and name not in seen:
                seen.append(name)
        return seen

    # -- loading -----------------------------------------------------------------

    def _set_events(self, items: list[dict[str, Any]]) -> None:
        self.event_options = [{"value": str(e["id"]), "label": e["name"]} for e in items]

    def _fill(self, workflow: dict[str, Any]) -> None:
        self.current_id = workflow["id"]
        self.name = workflow["name"]
        self.saved_name = workflow["name"]
        self.description = workflow.get("description") or ""
        self.status = workflow.get("status") or "active"
        self.tags = ", ".join(workflow.get("tags") or [])
        self.steps = [{"name": s["name"], "event_id": str(s["eventId"])} for s in workflow["steps"]]
        self.edges = [
            {"source": e["from"], "target": e["to"], "condition": e["condition"], "value": "true" if e["value"] else "false"}
            for e in workflow["edges"]
        ]
        self._fill_schedule(workflow)
        updated = local(workflow.get("updatedAt"), self.tz)
        self.updated = updated.strftime("%Y-%m-%d %H:%M:%S") if updated else ""
        self.dirty = False
        self.errors = {}
        self._refresh_graph()

    def _show_new(self, found: list[dict[str, Any]]) -> None:
        self._set_events(found)
        first = self.event_options[0]["value"] if self.event_options else ""
        self.steps = [{"name": "first", "event_id": first}]
        self._refresh_graph()
        self._refresh_preview()

    def _show_row(self, found) -> None:
        workflow, options, runs = found
        self._set_events(options)
        self._fill(workflow)
        self.recent_runs = [run_row(run, self.tz) for run in runs]

    def _saved(self, row: dict[str, Any]) -> None:
        # The definition as stored, as the next load would show it.
        self._fill(row)

    def _refresh_graph(self) -> None:
        events_by_id = {o["value"]: o["label"] for o in self.event_options}
        names = self._names()
        event_of = {s["name"].strip(): events_by_id.get(s["event_id"], "no event") for s in self.steps}
        known = set(names)
        pairs: list[tuple[str, str]] = []
        lines: list[GraphEdge] = []
        for edge in self.edges:
            source, target = edge["source"], edge["target"]
            if source in known and target in known and source != target and (source, target) not in pairs:
                pairs.append((source, target))
                lines.append(
                    {"text": edge_text(source, target, edge["condition"], edge["value"] == "true"),
                     "condition": edge["condition"]}
                )
        levels, stuck = graph_levels(names, pairs)
        self.graph = [[{"name": n, "event": event_of.get(n, "")} for n in row] for row in levels]
        self.graph_edges = lines
        self.graph_note = f"These steps form a cycle: {', '.join(stuck)}." if stuck else ""

    @rx.event
    async def refresh_runs(self):
        if not self.current_id:
            return
        try:
            runs = await asyncio.to_thread(_runs, self._access, self.current_id)
        except Exception:
            logger.exception("workflow runs load failed")
            yield rx.toast.error("The runs could not be loaded. Try again.", id="runs-result")
            return
        self.recent_runs = [run_row(run, self.tz) for run in runs]

    # -- editing -----------------------------------------------------------------

    def _validation_errors(self, exc: ValidationError) -> dict[str, str]:
        # A step's or an edge's message names it by its number.
        return validation_field_errors(exc, fields=FIELD_KEYS, numbered={"steps": "Step", "edges": "Edge"})

    def _service_errors(self, exc: CroniumError) -> dict[str, str]:
        return service_field_errors(exc, fields=FIELD_KEYS)

    @rx.event
    def set_field(self, field: str, value: str):
        if field not in ("name", "description", "status", "tags"):
            return
        value = "" if value is None else str(value)
        if field == "status" and value not in STATUSES:
            return
        setattr(self, field, value)
        self._touch(field)

    @rx.event
    def add_step(self):
        taken = {s["name"].strip() for s in self.steps}
        number = len(self.steps) + 1
        while f"step{number}" in taken:
            number += 1
        first = self.event_options[0]["value"] if self.event_options else ""
        self.steps = [*self.steps, {"name": f"step{number}", "event_id": first}]
        self._touch("steps")
        self._refresh_graph()

    @rx.event
    def remove_step(self, index: int):
        steps = list(self.steps)
        if 0 <= index < len(steps):
            gone = steps.pop(index)["name"].strip()
            self.steps = steps
            # Edges that joined the removed step go with it.
            if gone and gone not in {s["name"].strip() for s in steps}:
                self.edges = [e for e in self.edges if gone not in (e["source"], e["target"])]
            self._touch("steps", "edges")
            self._refresh_graph()

    @rx.event
    def set_step(self, index: int, part: str, value: str):
        steps = list(self.steps)
        if not (0 <= index < len(steps)) or part not in ("name", "event_id"):
            return
        value = "" if value is None else str(value)
        old = steps[index]["name"].strip()
        steps[index] = {**steps[index], part: value}
        self.steps = steps
        others = {s["name"].strip() for i, s in enumerate(steps) if i != index}
        new = value.strip()
        if part == "name" and old and old not in others and new and new not in others:
            # A renamed step keeps its edges (not when the new name is
            # another step's: that is a mistake the save will point out).
            self.edges = [
                {**e, "source": new if e["source"] == old else e["source"],
                 "target": new if e["target"] == old else e["target"]}
                for e in self.edges
            ]
        self._touch("steps")
        self._refresh_graph()

    @rx.event
    def add_edge(self):
        names = self._names()
        source = names[-2] if len(names) > 1 else (names[0] if names else "")
        target = names[-1] if len(names) > 1 else ""
        self.edges = [*self.edges, {"source": source, "target": target, "condition": "on_success", "value": "true"}]
        self._touch("edges")
        self._refresh_graph()

    @rx.event
    def remove_edge(self, index: int):
        edges = list(self.edges)
        if 0 <= index < len(edges):
            edges.pop(index)
            self.edges = edges
            self._touch("edges")
            self._refresh_graph()

    @rx.event
    def set_edge(self, index: int, part: str, value: str):
        edges = list(self.edges)
        if not (0 <= index < len(edges)) or part not in ("source", "target", "condition", "value"):
            return
        value = "" if value is None else str(value)
        if part == "condition" and value not in CONDITIONS:
            return
        if part == "value" and value not in ("true", "false"):
            return
        edges[index] = {**edges[index], part: value}
        self.edges = edges
        self._touch("edges")
        self._refresh_graph()

    # -- saving ------------------------------------------------------------------

    def _payload(self) -> tuple[dict[str, Any], dict[str, str]]:
        problems: dict[str, str] = {}
        steps = []
        for number, step in enumerate(self.steps, start=1):
            if not step["name"].strip():
                problems.setdefault("steps", f"Step {number} needs a name.")
            if not step["event_id"].isdigit():
                problems.setdefault("steps", f"Step {number} needs an event.")
            steps.append({"name": step["name"].strip(), "eventId": int(step["event_id"]) if step["event_id"].isdigit() else 0})
        if not steps:
            problems["steps"] = "Add at least one step."
        edges = []
        for number, edge in enumerate(self.edges, start=1):
            if not edge["source"] or not edge["target"]:
                problems.setdefault("edges", f"Edge {number} needs a step at both ends.")
            edges.append(
                {"from": edge["source"], "to": edge["target"], "condition": edge["condition"],
                 "value": edge["value"] != "false"}
            )
        if not self.name.strip():
            problems["name"] = "Give the workflow a name."
        payload = {
            "name": self.name,
            "description": self.description,
            "status": self.status,
            "tags": [tag.strip() for tag in self.tags.split(",") if tag.strip()],
            "steps": steps,
            "edges": edges,
        }
        payload.update(self._schedule_payload(problems))
        return payload, problems

    # -- running -----------------------------------------------------------------

    @rx.event
    def open_run(self):
        self.run_error = ""
        self.run_open = True

    @rx.event
    def set_run_open(self, value: bool):
        if not self.starting:
            self.run_open = bool(value)

    @rx.event
    def set_run_input(self, value: str):
        self.run_input = value or ""
        self.run_error = ""

    @rx.event
    async def run(self):
        if self.starting or not self.current_id:
            return
        text = self.run_input.strip()
        run_input = None
        if text:
            try:
                run_input = json.loads(text)
            except json.JSONDecodeError as exc:
                self.run_error = f"The input is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
                return
        self.starting = True
        self.run_error = ""
        yield
        try:
            run_id = await asyncio.to_thread(queue_workflow_run, self._access, self.current_id, run_input)
        except CroniumError as exc:
            self.starting = False
            self.run_error = sentence(exc.message)
            return
        except Exception:
            logger.exception("workflow run failed", extra={"workflow_id": self.current_id})
            self.starting = False
            self.run_error = "The run could not be started: the server failed. Try again."
            return
        self.starting = False
        self.run_open = False
        yield rx.redirect(routes.workflow_run_url(run_id))
