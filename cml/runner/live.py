"""The live progress table on a terminal (rich): one row per host, its current step or its result."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from cml.log import redact
from cml.runner import HostResult


class LiveView:
    """A rich Live table redrawn on each step; the final table stays on the screen."""

    def __init__(self, out: TextIO, hosts: Sequence[str]) -> None:
        self._rows = dict.fromkeys(hosts, "[dim]waiting[/]")
        self._lock = threading.Lock()
        self._live = Live(self._table(), console=Console(file=out), auto_refresh=False, transient=False)
        self._live.start()

    def _table(self) -> Table:
        table = Table(box=None, show_header=False, pad_edge=False)
        for host, text in self._rows.items():
            table.add_row(f"[bold]{host}[/]", text)
        return table

    def _set(self, host: str, text: str) -> None:
        with self._lock:
            self._rows[host] = text
            self._live.update(self._table(), refresh=True)

    def step(self, host: str, text: str) -> None:
        """Show ``text`` as ``host``'s current step."""
        self._set(host, f"[cyan]…[/] {_escape(text)}")

    def done(self, result: HostResult) -> None:
        """Show ``result``: green action or red failure message."""
        colour = "green" if result.ok else "red"
        tail = f" — {_escape(result.message)}" if result.message else ""
        self._set(result.host, f"[{colour}]{_escape(result.action)}[/]{tail}")

    def close(self) -> None:
        """Stop redrawing (the last table stays)."""
        self._live.stop()


def _escape(text: str) -> str:
    """``text`` redacted, with rich's markup brackets escaped."""
    from rich.markup import escape

    return escape(redact(text))
