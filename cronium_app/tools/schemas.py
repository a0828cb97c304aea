"""Shapes of tools, tool actions and their previews (API and UI), and the
replies the API gives about them. Shape errors are 422s from pydantic;
what depends on settings or other rows is checked by the service."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic.alias_generators import to_camel

from cronium_app.bounds import RowId
from orchestrator_worker.tools.kinds import EMAIL_SECURITY, KINDS, TEMPLATE_MAX_CHARS, WEBHOOK_METHODS

HEADER_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$")
# Set by Cronium itself on every webhook call.
RESERVED_HEADERS = {"content-length", "host", "x-cronium-signature", "x-cronium-timestamp", "x-cronium-delivery"}
EMAIL_RE = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,255}$")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Template = Annotated[str, StringConstraints(max_length=TEMPLATE_MAX_CHARS)]
FieldName = Literal["text", "body", "to", "subject"]


class ToolFields(BaseModel):
    """Every field a tool may have; which ones a kind needs is the
    service's to check. Secrets (url, headers, signingSecret, password)
    are write-only: left out of an update they stay as they are."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Name | None = None
    # Slack, Discord, Teams and webhooks: the URL to post to (a secret).
    url: Url | None = None
    # Webhooks.
    method: Literal[WEBHOOK_METHODS] | None = None  # type: ignore[valid-type]
    content_type: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = Field(
        default=None, alias="contentType"
    )
    headers: dict[str, Annotated[str, StringConstraints(max_length=8192)]] | None = Field(default=None, max_length=50)
    # An empty string removes the signing secret.
    signing_secret: Annotated[str, StringConstraints(max_length=1024)] | None = Field(default=None, alias="signingSecret")
    # Email.
    host: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)] | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal[EMAIL_SECURITY] | None = None  # type: ignore[valid-type]
    username: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] | None = None
    password: Secret | None = None
    from_address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=320)] | None = Field(
        default=None, alias="fromAddress"
    )

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name, text in (value or {}).items():
            if not HEADER_NAME_RE.match(name):
                raise ValueError(f"{name[:100]!r} is not a valid header name")
            if name.lower() in RESERVED_HEADERS:
                raise ValueError(f"{name} is set by Cronium itself")
            if any(c in text for c in "\r\n\x00"):
                raise ValueError(f"the value of header {name} may not hold a line break")
        return value

    @field_validator("from_address")
    @classmethod
    def _from_address(cls, value: str | None) -> str | None:
        if value and not EMAIL_RE.match(value):
            raise ValueError("enter one email address, such as cronium@example.com")
        return value


class ToolCreate(ToolFields):
    name: Name
    kind: Literal[KINDS]  # type: ignore[valid-type]


class ToolUpdate(ToolFields):
    pass


class ToolActionIn(BaseModel):
    """A tool event's action: the tool, and a template per field of its
    kind's action (the action itself follows from the tool's kind)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    tool_id: RowId = Field(alias="toolId")
    action: Literal["send_message", "call_webhook", "send_email"] | None = None
    fields: dict[FieldName, Template] = Field(default_factory=dict)


class ToolTestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # Email tools: where the test message goes (default: the tool's sender).
    to: Annotated[str, StringConstraints(strip_whitespace=True, max_length=320)] | None = None


class TemplatePreviewIn(BaseModel):
    """Templates to render over a sample input, as a tool job would."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    fields: dict[FieldName, Template] = Field(min_length=1)
    input: Any = None
    event_id: RowId | None = Field(default=None, alias="eventId")


# -- replies -----------------------------------------------------------------------


class Out(BaseModel):
    """A reply: fields in camelCase on the wire."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ToolOut(Out):
    """A tool as the API shows it: never a secret, only whether one is set
    (and a hook's host, so its owner can tell hooks apart)."""

    id: int
    name: str
    kind: str
    action: str
    url_host: str | None = None
    has_url: bool = False
    method: str | None = None
    content_type: str | None = None
    header_names: list[str] = []
    signed: bool = False
    host: str | None = None
    port: int | None = None
    security: str | None = None
    username: str | None = None
    has_password: bool = False
    from_address: str | None = None
    last_tested_at: str | None = None
    last_test_ok: bool | None = None
    last_test_message: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class ToolPage(Out):
    items: list[ToolOut]
    total: int
    limit: int
    offset: int


class ToolTestOut(Out):
    ok: bool
    message: str
    lines: list[str]
    tool: ToolOut


class TemplatePreviewOut(Out):
    fields: dict[str, str] = {}
    error: str | None = None
    field: str | None = None
