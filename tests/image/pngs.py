"""Hand-written PNG files: any bit depth and colour type, and headers that lie about the size."""
from __future__ import annotations

import struct
import zlib

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(width: int, height: int, bit_depth: int, colour_type: int, pixels: np.ndarray | None) -> bytes:
    """A PNG whose IHDR says ``width`` x ``height``; ``pixels`` (rows of samples, big-endian for
    16 bits) fill its IDAT, or None for an empty one (a header claiming an image it lacks)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    raw = b"" if pixels is None else b"".join(b"\x00" + row.tobytes() for row in pixels)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw))
            + _chunk(b"IEND", b""))
