"""Style values the components and pages share."""

from __future__ import annotations

import reflex as rx

# Code, ids, keys and JSON: Radix's monospace font.
MONO = "var(--code-font-family)"
# Table columns that only fit on wide screens are hidden on phones.
WIDE_CELL = rx.breakpoints(initial="none", md="table-cell")
