"""The socket between a browser load (archive.capture.fetch.browser) and its child process.

A frame is an 8-byte prefix (the lengths of its head and of its body,
big-endian), a head (one JSON object, UTF-8) and a body (raw bytes: a
request's or response's body, the DOM, the screenshot). Both lengths are
checked against caps before anything is read, so neither side can be made
to buffer more than it agreed to.

Heads, child to parent: {"kind": "request", "id", "method", "url", "accept",
"content_type"} (body: a POST's body), {"kind": "dom"}, {"kind":
"screenshot"}, {"kind": "done", "error", "notes"}. Parent to child: first
{"kind": "job", ...} (see browser.py), then {"kind": "response", "id",
"status", "header_lines", "error"} for each request.
"""
from __future__ import annotations

import json
import struct
from typing import Any

PREFIX = struct.Struct(">II")
MAX_HEAD = 1_000_000


class WireError(Exception):
    """The other side sent something that is not a frame we accept."""


def encode(head: dict[str, Any], body: bytes = b"") -> bytes:
    data = json.dumps(head, separators=(",", ":")).encode("utf-8")
    return PREFIX.pack(len(data), len(body)) + data + body


def sizes(prefix: bytes, max_body: int) -> tuple[int, int]:
    """The head's and the body's lengths from a frame's prefix, checked against the caps."""
    head_size, body_size = PREFIX.unpack(prefix)
    if head_size > MAX_HEAD:
        raise WireError(f"a frame head of {head_size} bytes, more than {MAX_HEAD}")
    if body_size > max_body:
        raise WireError(f"a frame body of {body_size} bytes, more than {max_body}")
    return head_size, body_size


def decode_head(data: bytes) -> dict[str, Any]:
    try:
        head = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WireError(f"a frame head that is not JSON: {exc}") from None
    if not isinstance(head, dict) or not isinstance(head.get("kind"), str):
        raise WireError("a frame head without a kind")
    return head


class FrameBuffer:
    """Frames out of a byte stream that arrives in pieces (the parent's side)."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self._data = bytearray()

    def feed(self, data: bytes) -> list[tuple[dict[str, Any], bytes]]:
        self._data += data
        frames = []
        while len(self._data) >= PREFIX.size:
            head_size, body_size = sizes(bytes(self._data[:PREFIX.size]), self.max_body)
            end = PREFIX.size + head_size + body_size
            if len(self._data) < end:
                break
            head = decode_head(bytes(self._data[PREFIX.size:PREFIX.size + head_size]))
            frames.append((head, bytes(self._data[PREFIX.size + head_size:end])))
            del self._data[:end]
        return frames
