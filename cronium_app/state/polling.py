"""What the live pages share: how often they poll, and how a poll loop
knows that its page is still the one open.

A page's on_load starts its poll loop (a background event). Reflex cancels
an on_load chain, background children included, when the tab navigates
elsewhere or disconnects; the loops also check for themselves, each round,
that the tab is still on their page and that no newer loop (a newer load of
the same page) replaced them.
"""

from __future__ import annotations

DASHBOARD_POLL_S = 1.0
JOBS_POLL_S = 1.5
LOG_POLL_S = 0.15
JOB_POLL_EVERY = 8  # job detail: re-read the job row every N log polls at least
