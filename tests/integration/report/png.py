"""A small PNG reader for tests: size from IHDR, pixels from the inflated, unfiltered IDAT stream."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {2: 3, 6: 4}  # colour type -> bytes per pixel at bit depth 8 (RGB, RGBA)


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    channels: int
    rows: list[bytes]  # unfiltered scanlines

    def colours(self) -> set[tuple[int, int, int]]:
        """Every distinct RGB colour in the image."""
        found: set[tuple[int, int, int]] = set()
        step = self.channels
        for row in self.rows:
            found.update(zip(row[0::step], row[1::step], row[2::step], strict=True))
        return found


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(kind: int, line: bytearray, prior: bytes, bpp: int) -> bytes:
    if kind == 0:
        return bytes(line)
    if kind == 2:
        return bytes((x + p) & 0xFF for x, p in zip(line, prior, strict=True))
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + prior[i]) // 2) & 0xFF
        else:
            up_left = prior[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + _paeth(left, prior[i], up_left)) & 0xFF
    return bytes(line)


def read(path: Path) -> Png:
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG; AssertionError on anything else."""
    data = path.read_bytes()
    assert data[:8] == SIGNATURE, f"{path} is not a PNG"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8, f"bit depth {depth}"
    assert colour in _CHANNELS, f"colour type {colour}"
    assert interlace == 0, "interlaced"
    bpp = _CHANNELS[colour]
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * bpp
    rows, prior = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        prior = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), prior, bpp)
        rows.append(prior)
    return Png(width=width, height=height, channels=bpp, rows=rows)


def rgb(hex_colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` as an RGB triple, to look for in :meth:`Png.colours`."""
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)
