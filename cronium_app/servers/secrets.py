"""Server credentials at rest: encrypted with a key derived from SECRET_KEY.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with its key taken
from SECRET_KEY by HKDF, so the database alone never reveals a private key
or password. Changing SECRET_KEY makes stored credentials unreadable: the
error says so instead of failing obscurely.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cronium_app.errors import CroniumError

HKDF_INFO = b"cronium server credentials v1"


class CredentialsUnreadable(CroniumError):
    status_code = 500
    code = "credentials_unreadable"


@dataclass(frozen=True)
class Credentials:
    """What logs in: a private key (with an optional passphrase) or a password.

    repr hides every field, so a credential never reaches a log by accident."""

    private_key: str | None = None
    passphrase: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("privateKey", self.private_key), ("passphrase", self.passphrase), ("password", self.password)) if v}


@lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret_key: str, credentials: Credentials) -> str:
    return _fernet(secret_key).encrypt(json.dumps(credentials.to_dict()).encode("utf-8")).decode("ascii")


def decrypt(secret_key: str, token: str) -> Credentials:
    try:
        data = json.loads(_fernet(secret_key).decrypt(token.encode("ascii")))
    except (InvalidToken, ValueError) as exc:
        raise CredentialsUnreadable(
            "the server's stored credentials cannot be decrypted: SECRET_KEY changed since they were saved; "
            "enter them again"
        ) from exc
    return Credentials(private_key=data.get("privateKey"), passphrase=data.get("passphrase"), password=data.get("password"))
