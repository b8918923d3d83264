"""The frames between a browser load and its child (archive/capture/fetch/browser_wire.py): the
parent reads what a child sends, which a hostile page may have shaped, so every cap must hold."""
from __future__ import annotations

import struct

import pytest

from archive.capture.fetch.browser_wire import MAX_HEAD, FrameBuffer, WireError, encode


def test_frames_arriving_a_byte_at_a_time_come_out_whole() -> None:
    data = encode({"kind": "request", "id": 1, "url": "http://x/"}, b"\x00body") + encode({"kind": "done"})
    frames = FrameBuffer(max_body=100)
    got = [frame for i in range(len(data)) for frame in frames.feed(data[i:i + 1])]
    assert got == [({"kind": "request", "id": 1, "url": "http://x/"}, b"\x00body"), ({"kind": "done"}, b"")]


@pytest.mark.parametrize(("data", "message"), [
    (encode({"kind": "dom"}, b"x" * 11), "a frame body of 11 bytes, more than 10"),
    (struct.pack(">II", MAX_HEAD + 1, 0), f"a frame head of {MAX_HEAD + 1} bytes, more than {MAX_HEAD}"),
    (struct.pack(">II", 3, 0) + b"{x}", "a frame head that is not JSON"),
    (struct.pack(">II", 2, 0) + b"[]", "a frame head without a kind"),
    (struct.pack(">II", 4, 0) + b"\xff\xfe{}", "a frame head that is not JSON"),
])
def test_a_bad_frame_is_refused_before_it_is_buffered(data: bytes, message: str) -> None:
    with pytest.raises(WireError, match=message.replace("[", r"\[")):
        FrameBuffer(max_body=10).feed(data)
