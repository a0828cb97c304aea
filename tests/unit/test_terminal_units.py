"""The browser terminal's small pieces: the size bounds, the page's path,
the bound on open terminals, the close reason's length, and the session
record (one line per opening and closing, with the duration, and nothing
typed in it)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from cronium_app.routes import server_id_of_terminal, terminal_url
from cronium_app.terminal import record as terminal_record
from cronium_app.terminal.open_terminals import OpenTerminals, TooManyTerminals
from cronium_app.terminal.record import TerminalSession, record_terminal_session
from cronium_app.terminal.relay import Close, Ending, Relay, idle_words
from cronium_app.terminal.service import MAX_CLOSE_REASON, _short
from cronium_app.terminal.shell import TerminalSize
from cronium_app.timeutil import utcnow


@pytest.mark.parametrize(
    "cols, rows, expected",
    [(80, 24, TerminalSize(80, 24)), (500, 200, TerminalSize(500, 200)), (0, 24, None), (501, 24, None),
     (80, 201, None), ("80", 24, None), (80.0, 24, None), (True, 24, None), (None, None, None)],
)
def test_sizes_are_whole_numbers_within_bounds(cols, rows, expected):
    assert TerminalSize.parse(cols, rows) == expected


@pytest.mark.parametrize("cols, rows", [(None, None), ("x", "24"), ("9999", "24"), ("-3", "10"), ("1e3", "24")])
def test_a_first_size_out_of_bounds_is_80_by_24(cols, rows):
    assert TerminalSize.from_query(cols, rows) == TerminalSize(80, 24)


def test_a_first_size_within_bounds_is_kept():
    assert TerminalSize.from_query("132", "43") == TerminalSize(132, 43)


@pytest.mark.parametrize("server_id", [1, 42, 123456789])
def test_the_terminal_page_path_names_its_server(server_id):
    assert server_id_of_terminal(terminal_url(server_id)) == server_id
    assert server_id_of_terminal(terminal_url(server_id) + "/") == server_id


@pytest.mark.parametrize(
    "path", ["/servers/abc/terminal", "/servers//terminal", "/servers/1/shell", "/jobs/1/terminal",
             "/servers/1/terminal/x", "/servers/" + "9" * 19 + "/terminal", "/servers/-1/terminal"],
)
def test_other_paths_name_no_server(path):
    assert server_id_of_terminal(path) is None


def test_open_terminals_are_bounded_per_user_and_freed_on_exit():
    terminals = OpenTerminals()
    with terminals.hold(1, 2), terminals.hold(1, 2):
        with pytest.raises(TooManyTerminals, match="2 terminals open already"):
            with terminals.hold(1, 2):
                pass
        with terminals.hold(2, 2):  # another user has their own count
            assert terminals.count(2) == 1
    assert terminals.count(1) == 0
    with terminals.hold(1, 2):
        assert terminals.count(1) == 1


def test_a_slot_is_freed_when_the_session_fails():
    terminals = OpenTerminals()
    with pytest.raises(RuntimeError):
        with terminals.hold(7, 1):
            raise RuntimeError("the shell went away")
    assert terminals.count(7) == 0


@pytest.mark.parametrize("seconds, words", [(900, "15 minutes"), (60, "1 minute"), (6, "6 seconds"), (90, "90 seconds")])
def test_idle_time_in_words(seconds, words):
    assert idle_words(seconds) == words


def test_a_long_close_reason_is_cut_to_what_a_close_frame_holds():
    reason = "é" * 200
    short = _short(reason)
    assert len(short.encode()) <= MAX_CLOSE_REASON and short.endswith("...")
    assert _short("the shell ended") == "the shell ended"


def test_the_record_says_who_where_and_how_long(caplog, monkeypatch):
    session = TerminalSession(
        session_id="abc123", user_id=4, user_email="ops@example.com", server_id=9, server_name="web-1",
        workspace_id=2, address="203.0.113.7", opened_at=utcnow() - timedelta(seconds=42),
    )
    # The audit entry is written to the database: tests/integration/test_terminal.py sees it there.
    audited = []
    monkeypatch.setattr(terminal_record, "_audit_closed", lambda session, fields: audited.append(fields))
    with caplog.at_level(logging.INFO, logger="cronium_app.terminal.record"):
        opened = record_terminal_session(session, "opened")
        closed = record_terminal_session(session, "closed", reason="the shell ended", bytes_in=10, bytes_out=2000)
    assert "duration_s" not in opened
    assert 42 <= closed["duration_s"] < 50
    assert closed["reason"] == "the shell ended" and closed["bytes_out"] == 2000
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0].startswith("terminal session opened: ") and "server_name='web-1'" in lines[0]
    assert lines[1].startswith("terminal session closed: ") and "duration_s=" in lines[1]
    assert caplog.records[1].terminal == closed
    assert audited == [closed]


class _Silent:
    """A websocket that never sends anything, and a shell that never prints."""

    async def receive(self):
        await asyncio.Event().wait()


def test_a_failing_recheck_closes_the_terminal_saying_so(caplog):
    class Shell:
        class process:
            class stdout:
                @staticmethod
                async def read(_n):
                    await asyncio.Event().wait()

    async def broken() -> str | None:
        raise ConnectionError("the database went away")

    relay = Relay(_Silent(), Shell(), idle_s=60, recheck_s=0.01, still_valid=broken)
    with caplog.at_level(logging.ERROR, logger="cronium_app.terminal.relay"):
        ending = asyncio.run(relay.run())
    assert ending == Ending(Close.FAILED, "the terminal failed on the app's side: connect again")
    assert "terminal relay failed" in caplog.text
