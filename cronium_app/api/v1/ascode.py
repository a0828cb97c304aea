"""Events as code over HTTP: export the document, plan it, apply it (what
`cronium export` / `cronium apply` and the events page's Export and Import
call)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.api.v1 import replies
from cronium_app.api.v1.common import SettingsDep, UserDep
from cronium_app.ascode import export, parse, sync
from cronium_app.db import read_session, write_session

router = APIRouter(prefix="/api/v1/as-code", tags=["as code"], responses=errors(401, 404, 422))

EXAMPLE_YAML = """version: 1
events:
- name: hello
  type: bash
  script: echo hello
  schedule: {type: cron, cronExpression: "0 * * * *"}
"""


class FileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Its name, for the messages (`cronium.yaml line 12: ...`)")
    content: Annotated[str, StringConstraints(max_length=4 * 1024 * 1024)] = Field(description="YAML text")


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"files": [{"name": "cronium.yaml", "content": EXAMPLE_YAML}], "prune": False}]})

    files: list[FileIn] = Field(min_length=1, max_length=100, description="One document, or one per file, merged")
    prune: bool = Field(default=False, description="Also delete what the document does not name")

    def parsed(self) -> parse.Parsed:
        return parse.parse([parse.Source(f.name, f.content) for f in self.files])


class ApplyIn(DocumentIn):
    fingerprint: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="The plan's fingerprint: apply only if the plan is still that one (else 409)")


Kind = Literal["variables", "events", "workflows"]


@router.get("/export", response_model=replies.Exported, responses=errors(422))
def export_document(user: UserDep, include: list[Kind] | None = Query(default=None)) -> dict[str, Any]:
    """Your events, workflows (their steps name events), schedules and
    variables as one YAML document, version 1. Secret variables and secret
    environment variables are written as references (names), never values.
    `include` limits it to some kinds."""
    with read_session() as session:
        result = export.export(session, user.access, tuple(include or parse.KINDS))
    return {"version": 1, "yaml": result.text, "counts": result.counts(), "warnings": result.warnings}


@router.post("/plan", response_model=replies.Plan, responses=errors(*BODY_ERRORS))
def plan_document(body: DocumentIn, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    """What applying the document would create, update, leave unchanged or
    (with `prune`) delete; changes nothing. A document that is not valid is
    a 422 whose message names the file, the line and the field
    (`error.problems` lists them)."""
    parsed = body.parsed()
    with read_session() as session:
        return sync.make_plan(session, settings, user.access, parsed, prune=body.prune).to_dict()


@router.post("/apply", response_model=replies.Applied, responses=errors(409, *BODY_ERRORS))
def apply_document(body: ApplyIn, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    """Apply the document, all of it or nothing: the reply is the plan that
    was carried out. With `fingerprint` (from a plan), 409 if the plan has
    changed since."""
    parsed = body.parsed()
    with write_session() as session:
        plan = sync.apply(session, settings, user.access, parsed, prune=body.prune, fingerprint=body.fingerprint)
        return {"plan": plan.to_dict()}
