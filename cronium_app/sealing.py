"""Secrets at rest: values sealed with a key derived from SECRET_KEY.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with a key per
purpose, taken from SECRET_KEY by HKDF, so the database alone never reveals
a server's or a tool's credentials, a secret environment variable, a secret
variable or a webhook trigger's signing secret.
Changing SECRET_KEY makes what was sealed unreadable: `Unreadable` says so
instead of failing obscurely.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cronium_app.errors import CroniumError

# One key per kind of secret (the HKDF "info"): a value sealed for one
# purpose cannot be opened as another.
SERVER_CREDENTIALS = b"cronium server credentials v1"
SECRET_ENV = b"cronium secret environment v1"
SECRET_VARIABLE = b"cronium secret variable v1"
TOOL_CREDENTIALS = b"cronium tool credentials v1"
TRIGGER_SIGNING = b"cronium webhook trigger signing secret v1"


class Unreadable(CroniumError):
    """A sealed value SECRET_KEY cannot open (it changed since it was sealed)."""

    status_code = 409
    code = "secret_unreadable"


@lru_cache(maxsize=16)
def _fernet(secret_key: str, purpose: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, purpose: bytes, value: Any) -> str:
    """`value` (anything JSON can hold) as an opaque ASCII token."""
    return _fernet(secret_key, purpose).encrypt(json.dumps(value).encode("utf-8")).decode("ascii")


def unseal(secret_key: str, purpose: bytes, token: str, *, what: str) -> Any:
    """What `seal` sealed; `what` names it in the error ("the server's stored
    credentials")."""
    try:
        return json.loads(_fernet(secret_key, purpose).decrypt(token.encode("ascii")))
    except (InvalidToken, ValueError) as exc:
        raise Unreadable(
            f"{what} cannot be decrypted: SECRET_KEY changed since they were saved; enter them again"
        ) from exc
