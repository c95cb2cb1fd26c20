"""Copy a container's output to our stdout/stderr as it arrives, a line at a time, secrets redacted."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import BinaryIO

from cml.log import redact

#: A partial line longer than this is written without waiting for its end.
HOLD = 64 * 1024


class RedactingWriter:
    """Write complete lines (ending in ``\\n`` or ``\\r``) to ``sink`` redacted; keep the rest for later.

    Redacting whole lines means a secret split across two reads is still caught. When ``withhold``
    accepts the first line (with its ``\\n``), that line is kept in ``held`` instead of written.
    """

    def __init__(self, sink: BinaryIO, withhold: Callable[[bytes], object] | None = None) -> None:
        self.sink = sink
        self.held: bytes | None = None
        self._pending = b""
        self._withhold = withhold

    def write(self, chunk: bytes) -> None:
        """Add ``chunk``; emit every complete line now."""
        data = self._pending + chunk
        cut = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
        if cut == 0 and len(data) < HOLD:
            self._pending = data
            return
        cut = cut or len(data)
        self._pending = data[cut:]
        self._emit(data[:cut])

    def close(self) -> None:
        """Emit what is left (a last line without a newline)."""
        if self._pending:
            self._emit(self._pending)
            self._pending = b""

    def _emit(self, data: bytes) -> None:
        if self._withhold is not None:
            withhold, self._withhold = self._withhold, None
            end = data.find(b"\n") + 1
            if end and withhold(data[:end]):
                self.held, data = data[:end], data[end:]
                if not data:
                    return
        text = data.decode("utf-8", "surrogateescape")
        self.sink.write(redact(text).encode("utf-8", "surrogateescape"))
        self.sink.flush()


def pump(
    frames: Iterable[tuple[bytes | None, bytes | None]],
    out: BinaryIO,
    err: BinaryIO,
    *,
    withhold: Callable[[bytes], object] | None = None,
) -> bytes | None:
    """Copy demultiplexed ``(stdout, stderr)`` frames to ``out`` / ``err`` until the stream ends.

    Returns stderr's first line when ``withhold`` accepted it (it was not written), else None.
    """
    writers = RedactingWriter(out), RedactingWriter(err, withhold)
    try:
        for frame in frames:
            for writer, chunk in zip(writers, frame, strict=True):
                if chunk:
                    writer.write(chunk)
    finally:
        for writer in writers:
            writer.close()
    return writers[1].held
