"""What the event and the workflow editors share: the page flags, the error
dict shown next to each field, turning pydantic's and the services' errors
into messages a person reads, and the save and delete round trips.

Each editor state mixes `EditorMixin` in and says what differs: how its
errors are keyed (`_validation_errors`, `_service_errors`) and how its row is
deleted (`_deletion`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import reflex as rx
from pydantic import ValidationError

from cronium_app.errors import CroniumError, NotFound

logger = logging.getLogger(__name__)

# pydantic's bound errors, in words.
_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}


def sentence(text: str) -> str:
    """A service or pydantic message as a sentence: a capital, one full stop."""
    text = text.removeprefix("Value error, ").strip()
    if not text:
        return "Invalid value."
    if text.startswith("url "):
        text = "URL " + text[4:]
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def _quantity(number: Any, unit: str) -> str:
    if not unit:
        return f"{number:g}" if isinstance(number, float) else str(number)
    plural = "" if number == 1 or unit.isupper() else "s"
    return f"{number:g} {unit}{plural}" if isinstance(number, float) else f"{number} {unit}{plural}"


def error_message(error: dict[str, Any], names: dict[str, tuple[str, str]], key: str) -> str:
    """One pydantic error as a message. A bound on a field `names` knows
    says so in words ("Timeout must be at least 1 second.")."""
    bound = _BOUNDS.get(error.get("type", ""))
    if bound and key in names:
        limit = (error.get("ctx") or {}).get(bound[0])
        if limit is not None:
            label, unit = names[key]
            return f"{label} must be {bound[1]} {_quantity(limit, unit)}."
    return sentence(error.get("msg", ""))


def service_field_errors(exc: CroniumError) -> dict[str, str]:
    """A service error as {field: message}: its `fields` when it names
    several, its `field` when one, else the whole form."""
    fields = exc.details.get("fields")
    if isinstance(fields, dict) and fields:
        return {str(key): sentence(str(msg)) for key, msg in fields.items()}
    if exc.details.get("field"):
        return {str(exc.details["field"]): sentence(exc.message)}
    return {"form": sentence(exc.message)}


# Brings the first highlighted field into view once the page shows it.
SCROLL_TO_FIRST_ERROR = (
    "setTimeout(() => { const el = document.querySelector('[aria-invalid=true], [role=alert]');"
    " if (el) el.scrollIntoView({block: 'center', behavior: 'smooth'}); }, 80)"
)


class EditorMixin(rx.State, mixin=True):
    """The flags, errors and round trips of an editor page."""

    current_id: int = 0
    loaded: bool = False
    not_found: bool = False
    load_error: str = ""
    saving: bool = False
    deleting: bool = False
    confirm_delete: bool = False
    dirty: bool = False
    errors: dict[str, str] = {}
    updated: str = ""
    saved_name: str = ""

    @rx.var
    def is_new(self) -> bool:
        return self.current_id == 0

    # -- what each editor says -------------------------------------------------------

    def _validation_errors(self, exc: ValidationError) -> dict[str, str]:
        raise NotImplementedError

    def _service_errors(self, exc: CroniumError) -> dict[str, str]:
        return service_field_errors(exc)

    def _deletion(self) -> tuple[Callable[[int, int], None], str, str]:
        """(delete function taking user id and row id, what the row is
        called in messages, the page to go to afterwards)."""
        raise NotImplementedError

    # -- shared steps ------------------------------------------------------------------

    def _path_id(self) -> int:
        """The row id at the end of the URL; 0 when it is not one."""
        raw = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        return int(raw) if raw.isdigit() and len(raw) <= 12 else 0

    async def _open(self, load: Callable[[int, int], Any]) -> Any | None:
        """`load(user id, row id)` for the row the URL names, in a thread;
        None once the page shows why not (not found, or a load error)."""
        _, noun, _ = self._deletion()
        row_id = self._path_id()
        result = None
        if not row_id:
            self.not_found = True
        else:
            try:
                result = await asyncio.to_thread(load, self._user_id, row_id)
            except NotFound:
                self.not_found = True
            except Exception:
                logger.exception("%s load failed", noun, extra={"row_id": row_id})
                self.load_error = f"This {noun} could not be loaded."
        self.loaded = True
        return result

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

    def _not_saved(self, noun: str):
        """The events that say a save failed, and where to look."""
        where = "check the highlighted fields" if set(self.errors) - {"form"} else "see the message on the form"
        return [rx.toast.error(f"The {noun} was not saved: {where}.", id="save-result"),
                rx.call_script(SCROLL_TO_FIRST_ERROR)]

    async def _store(self, save: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any] | None:
        """Run `save(*args)` in a thread; the saved row, or None with the
        reason in `errors` (or `not_found`)."""
        try:
            return await asyncio.to_thread(save, *args)
        except ValidationError as exc:
            self.errors = self._validation_errors(exc)
        except NotFound:
            self.not_found = True
        except CroniumError as exc:
            self.errors = self._service_errors(exc)
        except Exception:
            logger.exception("save failed", extra={"row_id": self.current_id})
            self.errors = {"form": "Saving failed on the server. Try again."}
        return None

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
        remove, noun, back = self._deletion()
        self.deleting = True
        yield
        try:
            await asyncio.to_thread(remove, self._user_id, self.current_id)
        except NotFound:
            pass
        except Exception:
            logger.exception("delete failed", extra={"row_id": self.current_id})
            self.deleting = False
            self.confirm_delete = False
            yield rx.toast.error(f"The {noun} could not be deleted. Try again.", id="delete-result")
            return
        name = self.saved_name
        self.deleting = False
        self.confirm_delete = False
        yield [rx.toast.success(f"Deleted {name}.", id="delete-result"), rx.redirect(back)]
