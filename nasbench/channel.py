"""Length-prefixed messages between the run loop and an isolated strategy process.

Two pipes, one per direction, so that neither side's prints (the strategy's stdout and
stderr stay the terminal's) can garble a message. The parent sends pickles (the child is
the one to distrust, and it may trust its parent); the child answers in JSON, which the
parent decodes without running any of the child's code: unpickling would let a strategy
execute code in the process that holds the table. Standard library only, so that the
child can load it before its sandbox is in place.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
from typing import Any

HEADER = struct.Struct("!I")
MAX_REPLY_BYTES = 1 << 20  # the child's answers are a few hundred bytes; anything huge is a protocol breach


class ChannelClosed(EOFError):
    """The other side closed its end (it exited or was killed)."""


class ProtocolError(ValueError):
    """A message that is not what the protocol allows (too long, not JSON, not an object)."""


def _read_exactly(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise ChannelClosed("the other side closed the channel")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BrokenPipeError:
            raise ChannelClosed("the other side closed the channel") from None
        view = view[written:]


def send_bytes(fd: int, payload: bytes) -> None:
    """Write one message."""
    _write_all(fd, HEADER.pack(len(payload)) + payload)


def recv_bytes(fd: int, limit: int | None = None) -> bytes:
    """Read one message; longer than ``limit`` bytes is a :class:`ProtocolError`."""
    (size,) = HEADER.unpack(_read_exactly(fd, HEADER.size))
    if limit is not None and size > limit:
        raise ProtocolError(f"a message of {size:,} bytes (at most {limit:,} allowed)")
    return _read_exactly(fd, size)


def send_json(fd: int, message: dict[str, Any]) -> None:
    """The child's side: one JSON object."""
    send_bytes(fd, json.dumps(message, allow_nan=True).encode("utf-8"))


def recv_json(fd: int) -> dict[str, Any]:
    """The parent's side: one JSON object from the child, checked to be a small object."""
    data = recv_bytes(fd, MAX_REPLY_BYTES)
    try:
        message = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"a message that is not JSON ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"a JSON {type(message).__name__}, not an object")
    return message


def send_pickle(fd: int, message: Any, pickler: type[pickle.Pickler] = pickle.Pickler) -> None:
    """The parent's side: one pickled message (``pickler`` may refuse what must not travel)."""
    import io

    buffer = io.BytesIO()
    pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(message)
    send_bytes(fd, buffer.getvalue())


def recv_pickle(fd: int) -> Any:
    """The child's side: one message from the parent."""
    return pickle.loads(recv_bytes(fd))
