"""Removing entries older than CRONIUM_AUDIT_RETENTION_DAYS: the only code
that deletes from the log. On PostgreSQL a trigger refuses every DELETE of
an entry (and every UPDATE) unless the transaction said it is this cleaner
(migration 0016); on SQLite a trigger refuses UPDATE, and nothing but this
module deletes."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cronium_app.db import is_sqlite, write_session
from cronium_app.models import AuditEntry
from cronium_app.settings import Settings

# The transaction-local setting the PostgreSQL trigger lets through.
CLEANER_SETTING = "cronium.audit_cleaner"
BATCH = 5000


def delete_expired(engine: Engine, settings: Settings, now: datetime) -> int:
    """Delete entries older than the retention period, a batch per short
    transaction; returns how many went."""
    if not settings.audit_retention_days:
        return 0
    cutoff = now - timedelta(days=settings.audit_retention_days)
    oldest = (sa.select(AuditEntry.id).where(AuditEntry.at < cutoff).order_by(AuditEntry.id).limit(BATCH)
              .scalar_subquery())
    delete = sa.delete(AuditEntry).where(AuditEntry.id.in_(oldest)).execution_options(synchronize_session=False)
    deleted = 0
    while True:
        with write_session(engine) as session:
            if not is_sqlite(engine):
                session.execute(sa.select(sa.func.set_config(CLEANER_SETTING, "on", True)))
            count = session.execute(delete).rowcount
        deleted += count
        if count < BATCH:
            return deleted
