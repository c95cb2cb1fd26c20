"""Plots as PNG: plotly figures rendered by kaleido through the system Chromium, one browser per call.

Rendering is pure (figures in, PNG files out, no network). The only outside lookup is
:func:`find_browser`, which is handed the environment mapping; Chromium is never downloaded.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cml.errors import ConfigError
from cml.log import logger

#: Pixel size of every PNG (CSS pixels; the file is ``SCALE`` times larger for sharp text).
WIDTH, HEIGHT, SCALE = 800, 450, 1
#: Executable names searched on ``PATH``, smallest Debian package first.
BROWSER_NAMES = (
    "chromium-headless-shell",
    "chromium",
    "chromium-browser",
    "google-chrome-stable",
    "google-chrome",
    "chrome",
)
_INSTALL_HINT = (
    "install it with `apt-get install chromium-headless-shell fonts-liberation` "
    "or point BROWSER_PATH at a Chromium executable"
)
_RENDER_TIMEOUT_S = 60.0


@dataclass(frozen=True, kw_only=True)
class Series:
    """One trace: ``name`` (shown in the legend, e.g. ``base`` / ``head``), its x and y values."""

    name: str
    x: Sequence[float | str]
    y: Sequence[float]


@dataclass(frozen=True, kw_only=True)
class Figure:
    """One plot. ``heatmap`` takes ``z`` (rows x columns) and one Series whose ``x`` labels both axes.

    ``x_log``: the x axis is logarithmic. ``text``: a heatmap's cell labels; ``z`` then only sets
    each cell's colour, from 0 (white) to 1 (darkest), any value above 0 clearly tinted.
    """

    title: str
    kind: Literal["line", "step", "scatter", "bar", "heatmap"]
    x_label: str
    y_label: str
    series: Sequence[Series]
    z: Sequence[Sequence[float]] | None = None
    x_log: bool = False
    text: Sequence[Sequence[str]] | None = None

    def __post_init__(self) -> None:
        if self.kind == "heatmap":
            labels = self.series[0].x if len(self.series) == 1 else None
            if labels is None or self.z is None or not _square(self.z, len(labels)):
                raise ValueError(f"heatmap {self.title!r} needs one Series of labels and a square z")
            return
        for s in self.series:
            if len(s.x) != len(s.y):
                raise ValueError(f"series {s.name!r} of {self.title!r}: {len(s.x)} x but {len(s.y)} y")


def _square(z: Sequence[Sequence[float]], n: int) -> bool:
    return len(z) == n and all(len(row) == n for row in z)


def find_browser(env: Mapping[str, str]) -> str:
    """Return the Chromium executable: ``BROWSER_PATH`` if set, else the first of BROWSER_NAMES on ``PATH``.

    Raises ConfigError (naming the Debian package to install) when there is none.
    """
    if explicit := env.get("BROWSER_PATH"):
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit
        raise ConfigError(f"BROWSER_PATH={explicit} is not an executable file", hint=_INSTALL_HINT)
    search = env.get("PATH", "")
    for name in BROWSER_NAMES:
        if found := shutil.which(name, path=search):
            return found
    raise ConfigError("no Chromium found on PATH to render plots", hint=_INSTALL_HINT)


def file_names(figures: Sequence[Figure]) -> list[str]:
    """A unique, stable PNG file name per figure: ``01-<title-slug>.png``."""
    names = []
    for i, fig in enumerate(figures, 1):
        slug = re.sub(r"[^a-z0-9]+", "-", fig.title.lower()).strip("-")[:60] or "figure"
        names.append(f"{i:02d}-{slug}.png")
    return names


#: How long rendering may take in all: a base for starting Chromium plus a share per figure (seconds).
RENDER_BUDGET = 60.0
RENDER_PER_FIGURE = 10.0


def render(figures: Sequence[Figure], out_dir: Path, *, env: Mapping[str, str] | None = None) -> list[Path]:
    """Render each figure to a PNG in ``out_dir`` (created) with one Chromium; return the paths in order.

    ``env`` (default: the process environment) is only used to find the browser. Raises ConfigError
    when no Chromium is found, it fails to render, or it has not finished within the render budget.
    """
    if not figures:
        return []
    import asyncio

    from cml.report._plotly import to_plotly

    browser, script = find_browser(os.environ if env is None else env), plotly_js()
    budget = RENDER_BUDGET + RENDER_PER_FIGURE * len(figures)
    before = _children()
    try:
        with _quiet_browser_logs():
            work = _render_all([to_plotly(fig) for fig in figures], browser, script)
            images = asyncio.run(asyncio.wait_for(work, timeout=budget))
    except BaseException as exc:
        # A browser that failed or hangs may outlive kaleido, and its reader threads would then keep this
        # process from exiting: end what it started.
        _end(_descendants(_children() - before))
        if isinstance(exc, TimeoutError):  # kaleido would have waited for it forever
            raise ConfigError(
                f"Chromium at {browser} did not render {len(figures)} plot(s) within {budget:.0f} s",
                hint=_INSTALL_HINT,
            ) from None
        if not isinstance(exc, Exception):
            raise
        reason = str(exc.args[0]) if exc.args else type(exc).__name__
        raise ConfigError(
            f"Chromium at {browser} failed to render plots: {reason}", hint=_INSTALL_HINT
        ) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / name for name in file_names(figures)]
    for path, image in zip(paths, images, strict=True):
        path.write_bytes(image)
    return paths


def _parents() -> dict[int, int]:
    """Every process's parent pid (Linux ``/proc``; empty elsewhere)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, ValueError, IndexError):
            found[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    return found


def _children() -> set[int]:
    """The pids of this process's children."""
    me = os.getpid()
    return {pid for pid, parent in _parents().items() if parent == me}


def _end(pids: set[int]) -> None:
    """SIGKILL each of ``pids`` (gone already is fine)."""
    for pid in pids:
        with suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _descendants(roots: set[int]) -> set[int]:
    """``roots`` and every process below them."""
    parents, found = _parents(), set(roots)
    grew = True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in found} - found
        found |= below
        grew = bool(below)
    return found


@contextmanager
def _quiet_browser_logs() -> Iterator[None]:
    """Keep kaleido's and choreographer's chatter (browser stderr, watchdog notes) out unless --debug."""
    if logger.isEnabledFor(logging.DEBUG):
        yield
        return
    noisy = [logging.getLogger(name) for name in ("choreographer", "kaleido", "logistro")]
    levels = [log.level for log in noisy]
    for log in noisy:
        log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for log, level in zip(noisy, levels, strict=True):
            log.setLevel(level)


async def _render_all(figures: Sequence[dict[str, Any]], browser: str, script: str) -> list[bytes]:
    """Start one browser (no MathJax, nothing fetched), render each figure to PNG bytes, close it."""
    opts = {"format": "png", "width": WIDTH, "height": HEIGHT, "scale": SCALE}
    images = []
    kaleido = _kaleido_class()(n=1, path=browser, plotlyjs=script, mathjax=False, timeout=_RENDER_TIMEOUT_S)
    async with kaleido as k:
        for fig in figures:
            images.append(await k.calc_fig(fig, opts=opts))
            logger.debug("rendered %r", fig["layout"]["title"]["text"])
    return images


def plotly_js() -> str:
    """The plotly.js bundled with the plotly package, as a file URI (kaleido would fall back to a CDN).

    Raises ConfigError when the plotly install lacks it.
    """
    import plotly

    bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not bundled.is_file():
        raise ConfigError(f"plotly.js is missing from the plotly package: {bundled}", hint="reinstall plotly")
    return bundled.as_uri()


def _kaleido_class() -> Any:
    """Kaleido, keeping its one page loaded between figures when this kaleido version allows.

    Stock kaleido reloads the page (and its 4 MB plotly.js) after every figure: three quarters of
    the render time here, for byte-identical PNGs. Falls back to stock kaleido if its internals moved.
    """
    import kaleido

    stock = kaleido.Kaleido
    if not callable(getattr(stock, "_return_kaleido_tab", None)):
        return stock

    class OnePage(stock):  # type: ignore[misc, valid-type]
        async def _return_kaleido_tab(self, tab: Any) -> None:
            ready = getattr(self, "tabs_ready", None)
            if ready is None:  # kaleido changed: let it return the tab its own way
                await super()._return_kaleido_tab(tab)
            else:
                await ready.put(tab)

    return OnePage
