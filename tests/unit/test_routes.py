"""Where a user may be sent after signing in: only this site's own pages."""

from __future__ import annotations

import pytest

from cronium_app.routes import DASHBOARD, safe_next


@pytest.mark.parametrize("path", ["/jobs", "/jobs?status=failed", "/events/12"])
def test_own_pages_are_kept(path):
    assert safe_next(path) == path


@pytest.mark.parametrize(
    "path",
    [None, "", "jobs", "//example.com", "/\\example.com", "/\t/example.com", "/\n/example.com", "/x\x7f", "/login", "https://example.com"],
)
def test_anything_else_goes_to_the_dashboard(path):
    assert safe_next(path) == DASHBOARD
