"""A workspace's variables: JSON values under a key, shared by the
workspace's scripts (through the runtime API) and its members (API and UI).

A secret variable's value is sealed at rest (`cronium_app.sealing`) and
write-only: the API and the UI show that it exists, never its value; only
the workspace's scripts read it (`runtime_value`), and job logs mask it."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, select

from cronium_app import audit, sealing
from cronium_app.auth.access import Ability, Access
from cronium_app.errors import Invalid, NotFound, TooLarge
from cronium_app.payloads import json_size
from cronium_app.quotas import check_room
from cronium_app.models import Variable
from cronium_app.settings import Settings
from cronium_app.timeutil import isoformat, utcnow

KEY_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def check_key(key: str) -> str:
    if not KEY_RE.match(key):
        raise Invalid("variable key must be 1-128 characters of letters, digits, '_', '.' or '-'", field="key")
    return key


def check_value(settings: Settings, value: Any) -> None:
    size = json_size(value)
    if size > settings.variable_value_max_bytes:
        raise TooLarge(f"variable value is {size} bytes as JSON; the limit is {settings.variable_value_max_bytes}")


def _find(session: Session, access: Access, key: str) -> Variable | None:
    return session.exec(select(Variable).where(access.scope(Variable), Variable.key == key)).first()


def get_variable(session: Session, access: Access, key: str) -> Variable:
    variable = _find(session, access, check_key(key))
    if variable is None:
        raise NotFound(f"variable {key!r} not found")
    return variable


def set_variable(
    session: Session, settings: Settings, access: Access, key: str, value: Any, *, secret: bool | None = None
) -> tuple[Variable, bool]:
    """Create or replace. `secret` None keeps what the variable was (a new
    one is not secret): a script setting a secret variable keeps it secret."""
    access.require(Ability.edit, "change variables")
    check_key(key)
    check_value(settings, value)
    variable = _find(session, access, key)
    created = variable is None
    before = None if created else audit.snapshot(variable)
    now = utcnow()
    if variable is None:
        check_room(session, Variable, access.user_id, settings.max_variables_per_user, "variables",
                   "CRONIUM_MAX_VARIABLES_PER_USER")
        variable = Variable(user_id=access.user_id, workspace_id=access.workspace_id, key=key, created_at=now)
    if secret is not None:
        variable.secret = secret
    if variable.secret:
        variable.value, variable.sealed_value = None, sealing.seal(settings.secret_key, sealing.SECRET_VARIABLE, value)
    else:
        variable.value, variable.sealed_value = value, None
    variable.updated_at = now
    session.add(variable)
    session.flush()
    action = audit.Action.variable_create if created else audit.Action.variable_update
    audit.record(session, action, variable, before=before, after=variable)
    return variable, created


def runtime_value(settings: Settings, variable: Variable) -> Any:
    """The value as the workspace's scripts read it (a secret one opened)."""
    if not variable.secret:
        return variable.value
    return sealing.unseal(settings.secret_key, sealing.SECRET_VARIABLE, variable.sealed_value,
                          what=f"secret variable {variable.key!r}")


def delete_variable(session: Session, access: Access, key: str) -> None:
    access.require(Ability.edit, "delete variables")
    variable = get_variable(session, access, key)
    audit.record(session, audit.Action.variable_delete, variable, before=variable)
    session.delete(variable)
    session.flush()


def list_variables(session: Session, access: Access, *, limit: int, offset: int) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Variable).where(access.scope(Variable)).order_by(Variable.key).limit(limit).offset(offset)
    ).all()
    return [variable_to_dict(v) for v in rows]


def list_keys(session: Session, access: Access, *, limit: int) -> list[str]:
    """The workspace's variable names, without reading a single value (a value
    may be large, and a secret one is not to be decrypted for a listing)."""
    return list(
        session.exec(select(Variable.key).where(access.scope(Variable)).order_by(Variable.key).limit(limit)).all()
    )


def variable_to_dict(variable: Variable) -> dict[str, Any]:
    """A secret variable shows that it is one, with no value."""
    return {
        "key": variable.key,
        "value": variable.value,
        "secret": variable.secret,
        "createdAt": isoformat(variable.created_at),
        "updatedAt": isoformat(variable.updated_at),
    }
