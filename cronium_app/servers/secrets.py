"""Server credentials at rest, sealed (`cronium_app.sealing`): the database
alone never reveals a private key or password."""

from __future__ import annotations

from dataclasses import dataclass

from cronium_app import sealing



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


def encrypt(secret_key: str, credentials: Credentials) -> str:
    return sealing.seal(secret_key, sealing.SERVER_CREDENTIALS, credentials.to_dict())


def decrypt(secret_key: str, token: str) -> Credentials:
    data = sealing.unseal(secret_key, sealing.SERVER_CREDENTIALS, token, what="the server's stored credentials")
    return Credentials(private_key=data.get("privateKey"), passphrase=data.get("passphrase"), password=data.get("password"))
