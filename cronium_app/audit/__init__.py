"""The audit log: who changed or did what, when, from where.

For the code that changes things (services), three names:

    from cronium_app import audit

    before = audit.snapshot(row)               # before changing the row
    ...change the row...
    audit.record(session, audit.Action.event_update, row, before=before, after=row)

`record` adds the entry to the caller's transaction: a rolled-back change
leaves no entry. `after=row` (or a snapshot) for a created row, `before=`
for a deleted one (take the snapshot before deleting). Only changed fields
are kept, and secret columns are masked by the rule on the models
(`info=SECRET` / `KEYS_ONLY`, cronium_app/models/types.py). `details` adds
facts no row holds; never put a secret there. `record_now` writes in a
transaction of its own (a failed sign-in, which writes nothing else).

Who acted and from where comes from `audit.context`, set where requests
and events come in (the API's dependencies, the UI's event middleware, the
webhook and runtime routes, the scheduler): services never pass it.
A new action gets a name in `Action` (a closed list).
"""

from cronium_app.audit import context
from cronium_app.audit.actions import Action, ActorKind, Source
from cronium_app.audit.recorder import Target, record, record_now
from cronium_app.audit.snapshots import snapshot

__all__ = ["Action", "ActorKind", "Source", "Target", "context", "record", "record_now", "snapshot"]
