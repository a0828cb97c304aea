"""What the event and the workflow editors share: the page flags, loading
the form (new, or the row the URL names), saving it and deleting the row.

Each editor state mixes `EditorMixin` in and says what differs: the calls it
makes (`calls`, each run in a thread), what its form looks like once read
(`_show_new`, `_show_row`, `_saved`), the payload it saves (`_payload`), and
how its errors are keyed (`_validation_errors`, `_service_errors`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import reflex as rx

from cronium_app.errors import NotFound
from cronium_app.state.saving import SavingMixin

logger = logging.getLogger(__name__)

# Brings the first highlighted field into view once the page shows it.
SCROLL_TO_FIRST_ERROR = (
    "setTimeout(() => { const el = document.querySelector('[aria-invalid=true], [role=alert]');"
    " if (el) el.scrollIntoView({block: 'center', behavior: 'smooth'}); }, 80)"
)


@dataclass(frozen=True)
class EditorCalls:
    """The service calls of an editor page, each run in a thread."""

    read_new: Callable[[int], Any]  # (user id) -> what a new form needs
    read: Callable[[int, int], Any]  # (user id, row id) -> the row and what its page shows
    save: Callable[[int, int, dict[str, Any]], dict[str, Any]]  # (user id, row id or 0, payload) -> the row
    delete: Callable[[int, int], None]  # (user id, row id)
    row_url: Callable[[Any], str]  # a saved row's page
    list_url: str  # where a deleted row's page goes


class EditorMixin(SavingMixin, mixin=True):
    """The flags, errors and round trips of an editor page."""

    current_id: int = 0
    loaded: bool = False
    not_found: bool = False
    load_error: str = ""
    deleting: bool = False
    confirm_delete: bool = False
    dirty: bool = False
    updated: str = ""
    saved_name: str = ""

    calls: ClassVar[EditorCalls]
    noun: ClassVar[str] = "row"  # "event": in messages
    new_form_reads: ClassVar[str] = "what the form needs"  # said when `calls.read_new` fails

    @rx.var
    def is_new(self) -> bool:
        return self.current_id == 0

    # -- what each editor says -------------------------------------------------------

    def _reset_form(self) -> None:
        self.reset()

    def _show_new(self, found: Any) -> None:
        """Fill a new form from what `calls.read_new` found."""
        raise NotImplementedError

    def _show_row(self, found: Any) -> None:
        """Fill the form from what `calls.read` found."""
        raise NotImplementedError

    def _payload(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The service input built from the form, and the problems found on the way."""
        raise NotImplementedError

    def _saved(self, row: dict[str, Any]) -> None:
        """The form after `row` was saved."""
        raise NotImplementedError

    # -- loading -----------------------------------------------------------------------

    def _path_id(self) -> int:
        """The row id at the end of the URL; 0 when it is not one."""
        raw = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        return int(raw) if raw.isdigit() and len(raw) <= 12 else 0

    async def _read(self, read: Callable[..., Any], *args: Any, failed: str) -> Any | None:
        """`read(*args)` in a thread; None once the page shows why not (not
        found, or `failed`)."""
        try:
            return await asyncio.to_thread(read, *args)
        except NotFound:
            self.not_found = True
        except Exception:
            logger.exception("%s load failed", self.noun, extra={"row_id": self._path_id()})
            self.load_error = failed
        return None

    @rx.event
    async def load_new(self):
        if (go := await self._require_user()) is not None:
            return go
        self._reset_form()
        failed = f"{self.new_form_reads[:1].upper()}{self.new_form_reads[1:]} could not be loaded."
        found = await self._read(self.calls.read_new, self._access, failed=failed)
        if found is not None:
            self._show_new(found)
        self.loaded = True
        return None

    @rx.event
    async def load_existing(self):
        if (go := await self._require_user()) is not None:
            return go
        self._reset_form()
        row_id = self._path_id()
        if not row_id:
            self.not_found = True
        else:
            failed = f"This {self.noun} could not be loaded."
            found = await self._read(self.calls.read, self._access, row_id, failed=failed)
            if found is not None:
                self._show_row(found)
        self.loaded = True
        return None

    # -- editing and saving ------------------------------------------------------------

    def _touch(self, *keys: str) -> None:
        """The form changed: its messages for `keys` (and the form's own) go."""
        self.dirty = True
        drop = {*keys, "form"}
        if any(key in self.errors for key in drop):
            self.errors = {k: v for k, v in self.errors.items() if k not in drop}

    def _refuse(self, problems: dict[str, str]):
        """Show `problems` next to their fields; the events that say so."""
        self.errors = problems
        return [rx.toast.error("Check the highlighted fields.", id="save-result"), rx.call_script(SCROLL_TO_FIRST_ERROR)]

    def _not_saved(self):
        """The events that say a save failed, and where to look."""
        where = "check the highlighted fields" if set(self.errors) - {"form"} else "see the message on the form"
        return [rx.toast.error(f"The {self.noun} was not saved: {where}.", id="save-result"),
                rx.call_script(SCROLL_TO_FIRST_ERROR)]

    def _gone(self, exc: NotFound) -> None:
        self.not_found = True

    @rx.event
    async def save(self):
        if self.saving:
            return
        payload, problems = self._payload()
        if problems:
            yield self._refuse(problems)
            return
        self.saving = True
        self.errors = {}
        yield
        row = await self._store(self.calls.save, self._access, self.current_id, payload)
        if row is None:
            yield self._not_saved()
            return
        created = self.current_id == 0
        self._saved(row)
        if created:
            yield [rx.toast.success(f"{self.noun.capitalize()} created.", id="save-result"),
                   rx.redirect(self.calls.row_url(row["id"]))]
        else:
            yield rx.toast.success("Saved.", id="save-result")

    # -- deleting ----------------------------------------------------------------------

    @rx.event
    def ask_delete(self):
        self.confirm_delete = True

    @rx.event
    def set_confirm_delete(self, value: bool):
        if not self.deleting:
            self.confirm_delete = bool(value)

    @rx.event
    async def delete(self):
        if self.deleting or not self.current_id:
            return
        self.deleting = True
        yield
        try:
            await asyncio.to_thread(self.calls.delete, self._access, self.current_id)
        except NotFound:
            pass
        except Exception:
            logger.exception("delete failed", extra={"row_id": self.current_id})
            self.deleting = False
            self.confirm_delete = False
            yield rx.toast.error(f"The {self.noun} could not be deleted. Try again.", id="delete-result")
            return
        name = self.saved_name
        self.deleting = False
        self.confirm_delete = False
        yield [rx.toast.success(f"Deleted {name}.", id="delete-result"), rx.redirect(self.calls.list_url)]
