"""Does a text hold a token in any form? Found by decoding, independently of cml's own scanner.

Every run of base64 characters is decoded at each of the four character alignments, in both
alphabets, and every run of hex digits at both nibble alignments; the token (or any line of it six
characters or longer) is looked for in the text itself and in every decoded byte string.
"""

from __future__ import annotations

import base64
import binascii
import re

_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
_HEX_RUN = re.compile(r"[0-9a-fA-F]{12,}")


def _pieces(token: str) -> list[bytes]:
    lines = [line.strip() for line in token.splitlines() if len(line.strip()) >= 6]
    return [piece.encode() for piece in {token.strip(), *lines} if piece]


def _decoded(text: str) -> list[bytes]:
    out: list[bytes] = []
    for run in _B64_RUN.findall(text):
        standard = run.replace("-", "+").replace("_", "/").rstrip("=")
        for shift in range(4):
            chunk = standard[shift:]
            chunk = chunk[:-1] if len(chunk) % 4 == 1 else chunk + "=" * (-len(chunk) % 4)
            try:
                out.append(base64.b64decode(chunk, validate=True))
            except (binascii.Error, ValueError):
                continue
    for run in _HEX_RUN.findall(text):
        for shift in range(2):
            chunk = run[shift:]
            out.append(bytes.fromhex(chunk[: len(chunk) - len(chunk) % 2]))
    return out


def leaks(text: str, token: str) -> bool:
    """True when ``text`` holds ``token`` (or a 6+ character line of it) plainly, in base64 or in hex."""
    pieces = _pieces(token)
    raw = text.encode("utf-8", "surrogateescape")
    return any(p in raw for p in pieces) or any(p in blob for blob in _decoded(text) for p in pieces)


def without_masks(text: str) -> str:
    """``text`` without the ``::add-mask::`` lines the Actions runner swallows before any log."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("::add-mask::"))
