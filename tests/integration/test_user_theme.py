"""The web UI theme a user picks is kept on the account (users.theme)."""

from __future__ import annotations

import pytest

from cronium_app.auth.users import set_theme
from cronium_app.db import read_session, write_session
from cronium_app.errors import Invalid
from cronium_app.models import User


def _theme(engine, user_id: int) -> str:
    with read_session(engine) as session:
        return session.get(User, user_id).theme


def test_a_new_account_follows_the_system(engine, make_user_id):
    assert _theme(engine, make_user_id()) == "system"


@pytest.mark.parametrize("theme", ["dark", "light", "system"])
def test_a_picked_theme_is_kept(engine, make_user_id, theme):
    user_id = make_user_id()
    with write_session(engine) as session:
        set_theme(session, user_id, theme)
    assert _theme(engine, user_id) == theme


@pytest.mark.parametrize("theme", ["purple", "", "DARK", "dark " * 100])
def test_an_unknown_theme_is_refused_and_nothing_changes(engine, make_user_id, theme):
    user_id = make_user_id()
    with pytest.raises(Invalid, match="theme must be one of"):
        with write_session(engine) as session:
            set_theme(session, user_id, theme)
    assert _theme(engine, user_id) == "system"
