"""Errors as the sentences a form shows next to its fields.

A form's errors are a dict {field key: message}; the keys are the API's
field names ("timeoutSeconds", "httpRequest.url"), and "form" holds what
belongs to no field. Both kinds of errors a save can meet land there:
pydantic's (`validation_field_errors`) and the services' (`service_field_errors`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pydantic import ValidationError

from cronium_app.errors import CroniumError

FORM = "form"

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


def error_message(error: dict[str, Any], names: Mapping[str, tuple[str, str]], key: str) -> str:
    """One pydantic error as a message. A bound on a field `names` knows
    (key -> (label, unit)) says so in words ("Timeout must be at least 1 second.")."""
    bound = _BOUNDS.get(error.get("type", ""))
    if bound and key in names:
        limit = (error.get("ctx") or {}).get(bound[0])
        if limit is not None:
            label, unit = names[key]
            return f"{label} must be {bound[1]} {_quantity(limit, unit)}."
    return sentence(error.get("msg", ""))


def _placed(key: str, fields: Collection[str] | None, elsewhere: str) -> str:
    return key if fields is None or key in fields else elsewhere


def validation_field_errors(
    exc: ValidationError,
    *,
    bounds: Mapping[str, tuple[str, str]] | None = None,
    fields: Collection[str] | None = None,
    nested: Collection[str] = (),
    numbered: Mapping[str, str] | None = None,
    elsewhere: str = FORM,
) -> dict[str, str]:
    """pydantic's errors as {field key: message}, the first one per field.

    - `bounds`: fields whose bounds are said in words (key -> (label, unit)).
    - `fields`: the keys the form shows a message next to; an error on any
      other goes under `elsewhere` (None: every key has a place).
    - `nested`: objects whose own fields have a place ("httpRequest.url").
    - `numbered`: lists whose errors name the item ({"steps": "Step"}:
      "Step 2: field required.").
    """
    bounds, numbered = bounds or {}, numbered or {}
    found: dict[str, str] = {}
    for error in exc.errors():
        loc = list(error.get("loc", ()))
        key = str(loc[0]) if loc else elsewhere
        if key in nested and len(loc) > 1:
            key = f"{key}.{loc[1]}"
        message = error_message(error, bounds, key)
        if key in numbered and len(loc) > 1 and isinstance(loc[1], int):
            message = f"{numbered[key]} {loc[1] + 1}: {message[:1].lower()}{message[1:]}"
        found.setdefault(_placed(key, fields, elsewhere), message)
    return found


def service_field_errors(
    exc: CroniumError, *, fields: Collection[str] | None = None, elsewhere: str = FORM
) -> dict[str, str]:
    """A service error as {field key: message}: its `fields` when it names
    several, its `field` when one, else the whole form. With `fields`, a
    key the form has no place for goes under `elsewhere`."""
    named = exc.details.get("fields")
    if isinstance(named, dict) and named:
        found = {str(key): sentence(str(msg)) for key, msg in named.items()}
    elif exc.details.get("field"):
        found = {str(exc.details["field"]): sentence(exc.message)}
    else:
        found = {FORM: sentence(exc.message)}
    placed: dict[str, str] = {}
    for key, message in found.items():
        placed.setdefault(_placed(key, fields, elsewhere), message)
    return placed
