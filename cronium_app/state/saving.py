"""What every form that saves shares: the busy flag, the errors shown next
to its fields, and the save itself, run in a thread, each way it can fail
turned into those errors.

A state mixes `SavingMixin` in and says, where its form differs, how errors
are keyed (`_validation_errors`, `_service_errors`) and what a save of a row
that is gone shows (`_gone`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx
from pydantic import ValidationError

from cronium_app.display.messages import FORM, service_field_errors, validation_field_errors
from cronium_app.errors import CroniumError, NotFound

SAVE_FAILED = "Saving failed on the server. Try again."

Saved = TypeVar("Saved")


class SavingMixin(rx.State, mixin=True):
    saving: bool = False
    errors: dict[str, str] = {}

    def _validation_errors(self, exc: ValidationError) -> dict[str, str]:
        return validation_field_errors(exc)

    def _service_errors(self, exc: CroniumError) -> dict[str, str]:
        return service_field_errors(exc)

    def _gone(self, exc: NotFound) -> None:
        """The row being saved no longer exists: by default, said like any
        other service error."""
        self.errors = self._service_errors(exc)

    async def _store(self, save: Callable[..., Saved], *args: Any) -> Saved | None:
        """Run `save(*args)` in a thread: what it returned, or None with the
        reason in `errors`. Either way the save is over (`saving` is off)."""
        try:
            return await asyncio.to_thread(save, *args)
        except ValidationError as exc:
            self.errors = self._validation_errors(exc)
        except NotFound as exc:
            self._gone(exc)
        except CroniumError as exc:
            self.errors = self._service_errors(exc)
        except Exception:
            logging.getLogger(type(self).__module__).exception("save failed")
            self.errors = {FORM: SAVE_FAILED}
        finally:
            self.saving = False
        return None



class DialogFormMixin(SavingMixin, mixin=True):
    """A list page's create/edit dialog whose form may hold typed secrets
    (servers, tools): they are dropped whenever the dialog closes."""

    editor_open: bool = False
    editing_id: int = 0  # 0 while creating

    def _drop_secrets(self) -> None:
        """Forget what was typed into the form's secret fields."""

    @rx.event
    def set_editor_open(self, value: bool):
        if self.saving:
            return
        self.editor_open = bool(value)
        if not self.editor_open:
            self._drop_secrets()

    async def _save_dialog(self, body: dict[str, Any], errors: dict[str, str], schemas: tuple[type, type],
                           create: Callable[..., Any], update: Callable[..., Any], toast_id: str):
        """Check `body` against the create or update schema (`errors` are
        the form's own, and win), store it in a thread, close the dialog,
        say so and reload the list (`_fetch` of the list mixin)."""
        data = None
        try:
            data = (schemas[1] if self.editing_id else schemas[0]).model_validate(body)
        except ValidationError as exc:
            errors = {**self._validation_errors(exc), **errors}
        if errors:
            self.errors = errors
            return
        self.saving = True
        yield
        if self.editing_id:
            item = await self._store(update, self._access, self.editing_id, data)
        else:
            item = await self._store(create, self._access, data)
        if item is None:
            return
        self.editor_open = False
        self._drop_secrets()
        yield rx.toast.success(f"Saved {item['name']}.", id=toast_id)
        async for step in self._fetch():
            yield step
