"""A container's output as the engine's attach stream carries it: stdout and
stderr multiplexed in frames (an 8-byte header: the stream, three zero
bytes, the payload's length big-endian; then the payload).

docker-py's own reader (`attach(..., demux=True)`) waits on the socket and
reads twice per frame, and a script writes one frame per line when its
output is unbuffered (Python with PYTHONUNBUFFERED, Bash's echo): hundreds of
thousands of system calls and Python steps for a busy job. This reader takes
whatever the socket holds, up to CHUNK bytes at a time, and hands it on as a
few segments: consecutive frames of one stream joined, in their order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from docker.utils.socket import read

CHUNK = 256 * 1024
_HEADER = 8
_STREAMS = {1: "stdout", 2: "stderr"}

Segment = tuple[str, bytes]  # (stream, bytes)


class ContainerOutput:
    """The attach socket of one container (`docker.APIClient.attach_socket`)."""

    def __init__(self, sock: Any):
        self._sock = sock

    def segments(self) -> Iterator[list[Segment]]:
        """Blocking: yields the frames read so far as segments, until the
        container's output ends."""
        pending = bytearray()
        while True:
            data = read(self._sock, CHUNK)
            if not data:
                return
            pending += data
            found, used = split_frames(pending)
            del pending[:used]
            if found:
                yield found

    def close(self) -> None:
        """Hang up (the engine then stops sending; the container runs on)."""
        for closeable in (self._sock, getattr(self._sock, "_response", None)):
            try:
                if closeable is not None:
                    closeable.close()
            except (OSError, ValueError):  # already closed by the other
                pass


def split_frames(buffer: bytes | bytearray) -> tuple[list[Segment], int]:
    """The whole frames at the start of `buffer` as segments, and how many
    bytes they took (a frame cut off at the end waits for the next read)."""
    view = memoryview(buffer)
    segments: list[Segment] = []
    parts: list[bytes] = []
    current = None
    at = 0
    while len(buffer) - at >= _HEADER:
        size = int.from_bytes(view[at + 4 : at + _HEADER], "big")
        end = at + _HEADER + size
        if end > len(buffer):
            break
        stream = _STREAMS.get(buffer[at], "stdout")
        if stream != current and parts:
            segments.append((current, b"".join(parts)))
            parts = []
        current = stream
        parts.append(bytes(view[at + _HEADER : end]))
        at = end
    if parts:
        segments.append((current, b"".join(parts)))
    view.release()
    return segments, at
