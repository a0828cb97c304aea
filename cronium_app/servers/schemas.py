"""Shapes of server input (API and UI). Shape errors are 422s from pydantic;
whether a key can be read is checked by the service."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

# A DNS name or an IPv4/IPv6 literal: no spaces, schemes, paths or users.
HOST_RE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?|[0-9A-Fa-f:.]+)$")
USERNAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
PRIVATE_KEY_MAX = 16 * 1024

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class ServerFields(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Name | None = None
    host: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)] | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    auth_type: Literal["key", "password"] | None = Field(default=None, alias="authType")
    private_key: Annotated[str, StringConstraints(max_length=PRIVATE_KEY_MAX)] | None = Field(default=None, alias="privateKey")
    passphrase: Annotated[str, StringConstraints(max_length=1024)] | None = None
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None
    # The server's public host key, OpenSSH form ("ssh-ed25519 AAAA..."); when
    # absent, the first successful connection pins it.
    host_key: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16 * 1024)] | None = Field(
        default=None, alias="hostKey"
    )
    tags: list[Tag] | None = Field(default=None, max_length=20)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and not HOST_RE.match(value):
            raise ValueError("host must be a host name or an IP address (no scheme, user or path)")
        return value

    @field_validator("username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is not None and not USERNAME_RE.match(value):
            raise ValueError("username must be 1-64 letters, digits, '_', '.' or '-', not starting with a digit")
        return value


class ServerCreate(ServerFields):
    name: Name
    host: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    auth_type: Literal["key", "password"] = Field(alias="authType")


class ServerUpdate(ServerFields):
    pass
