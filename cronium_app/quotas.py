"""Per-user quotas on what a user keeps: events, variables, servers.

A row over the limit is refused with a 422 that says which limit and how to
get room. (The limit on jobs waiting in the queue belongs to the job
service: `jobs.create`.)
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from cronium_app.errors import CroniumError


class QuotaReached(CroniumError):
    status_code = 422
    code = "quota_reached"


def check_room(session: Session, model: type[SQLModel], user_id: int, limit: int, what: str, setting: str) -> None:
    """Room for one more `model` row of this user."""
    count = session.execute(sa.select(sa.func.count()).select_from(model).where(model.user_id == user_id)).scalar()
    if count >= limit:
        raise QuotaReached(
            f"you have {count} {what}, the most this server allows ({setting}={limit}): delete some to make room"
        )
