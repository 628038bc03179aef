"""Stand-in media: tiny valid PNG images and MP4-shaped byte strings, base64-encoded.

The service returns photos and videos as base64; the emulator returns real
(small) PNGs and bytes that begin like an MP4 file, of a chosen size, so that
clients can be tested with large results without shipping fixtures.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int = 16, height: int = 16, seed: str = "") -> bytes:
    """An RGB PNG whose colour is derived from ``seed``."""
    r, g, b = hashlib.sha256(seed.encode("utf-8")).digest()[:3]
    row = b"\x00" + bytes((r, g, b)) * width
    raw = row * height
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def png_b64(seed: str = "", width: int = 16, height: int = 16) -> str:
    return base64.b64encode(png(width, height, seed)).decode("ascii")


def video(size: int, seed: str = "") -> bytes:
    """``size`` bytes that start with an MP4 ``ftyp`` box; the rest is deterministic filler."""
    head = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isommp42"
    size = max(size, len(head))
    block = hashlib.sha256(seed.encode("utf-8")).digest() * 128  # 4 KiB
    body = (block * (size // len(block) + 1))[: size - len(head)]
    return head + body


def video_b64(size: int, seed: str = "") -> str:
    return base64.b64encode(video(size, seed)).decode("ascii")
