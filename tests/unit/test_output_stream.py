"""Reading a container's multiplexed attach stream: frames joined per
stream in their order, a frame cut off by a read kept for the next."""

from __future__ import annotations

from orchestrator_worker.executors.output_stream import split_frames


def frame(stream: int, payload: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def test_consecutive_frames_of_a_stream_become_one_segment_in_order():
    data = frame(1, b"a\n") + frame(1, b"b\n") + frame(2, b"oops\n") + frame(1, b"c\n")
    assert split_frames(data) == ([("stdout", b"a\nb\n"), ("stderr", b"oops\n"), ("stdout", b"c\n")], len(data))


def test_a_frame_cut_off_at_the_end_is_left_for_the_next_read():
    whole = frame(1, b"first\n")
    cut = frame(2, b"second\n")[:10]
    assert split_frames(whole + cut) == ([("stdout", b"first\n")], len(whole))
    assert split_frames(cut[:5]) == ([], 0)


def test_an_empty_frame_is_harmless():
    data = frame(1, b"") + frame(1, b"x")
    assert split_frames(data) == ([("stdout", b"x")], len(data))
