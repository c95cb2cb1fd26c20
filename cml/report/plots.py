"""Plots as PNG: plotly figures rendered by kaleido through the system Chromium, one browser per call.

Rendering is pure (figures in, PNG files out, no network). The only outside lookup is
:func:`find_browser`, which is handed the environment mapping; Chromium is never downloaded.
Chromium runs under a renderer process of its own (:mod:`cml.report._render`): a browser that dies
or hangs cannot keep this process from exiting, and :func:`prepare` can start it early.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cml import proc
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


class RenderError(RuntimeError):
    """The renderer failed for a reason other than Chromium: a bug (a figure plotly.js refuses, a
    renderer that crashed). Not a CmlError, so ``cml`` reports it as an internal error."""


@dataclass(frozen=True, kw_only=True)
class _Started:
    """A renderer process started by :func:`prepare` for ``browser``."""

    browser: str
    process: subprocess.Popen[bytes]


_started: list[_Started] = []


def prepare(env: Mapping[str, str] | None = None) -> None:
    """Start the renderer (and its Chromium) now, so the browser loads while the caller reads data.

    The next :func:`render` uses it. Does nothing when no browser is found (render will say so) or one
    is started already. ``env`` as for :func:`render`.
    """
    if _started:
        return
    try:
        browser = find_browser(os.environ if env is None else env)
    except ConfigError:
        return
    _started.append(_Started(browser=browser, process=_spawn(browser)))


def release() -> None:
    """Stop the renderer :func:`prepare` started if :func:`render` did not take it (the caller
    failed, or found nothing to draw after all): no browser outlives the call that asked for it."""
    while _started:
        _stop(_started.pop().process)


#: Each renderer's Chromium profile folder, by the renderer's pid: made here, so that it is removed
#: here too, even when the renderer itself is killed (a hung browser) before it could remove it.
_profiles: dict[int, str] = {}


def _spawn(browser: str) -> subprocess.Popen[bytes]:
    """``python -m cml.report._render BROWSER PLOTLYJS PROFILE``, which starts Chromium at once."""
    debug = ["--debug"] if logger.isEnabledFor(logging.DEBUG) else []
    profile = tempfile.mkdtemp(prefix="cml-chromium-")
    argv = [sys.executable, "-m", "cml.report._render", browser, plotly_js(), profile, *debug]
    try:
        process = proc.start(argv, env={**os.environ, "PYTHONPATH": _import_root()}, quiet=not debug)
    except BaseException:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    _profiles[process.pid] = profile
    return process


def _forget(process: subprocess.Popen[bytes]) -> None:
    """Remove the ended renderer ``process``'s profile folder (it removes it itself when it can)."""
    profile = _profiles.pop(process.pid, None)
    if profile is not None:
        shutil.rmtree(profile, ignore_errors=True)


def _import_root() -> str:
    """``PYTHONPATH`` for the renderer: this ``cml``'s parent folder first, so it runs this very code."""
    import cml

    here = str(Path(cml.__file__).resolve().parent.parent)
    return os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)


def _take(browser: str) -> subprocess.Popen[bytes]:
    """The renderer :func:`prepare` started for ``browser``, else a new one."""
    if _started:
        started = _started.pop()
        if started.browser == browser and started.process.poll() is None:
            return started.process
        _stop(started.process)
    return _spawn(browser)


def render(figures: Sequence[Figure], out_dir: Path, *, env: Mapping[str, str] | None = None) -> list[Path]:
    """Render each figure to a PNG in ``out_dir`` (created) with one Chromium; return the paths in order.

    Chromium runs under a renderer process (started by :func:`prepare`, or now). ``env`` (default: the
    process environment) is only used to find the browser. Raises ConfigError when no Chromium is
    found, it fails, or it has not finished within the render budget; RenderError (a bug) when the
    renderer fails otherwise. Errors building a figure's dict propagate as they are.
    """
    if not figures:
        return []
    from cml.report._plotly import to_plotly

    opts = {"format": "png", "width": WIDTH, "height": HEIGHT, "scale": SCALE}
    job = json.dumps({"figures": [to_plotly(fig) for fig in figures], "opts": opts}).encode()
    browser = find_browser(os.environ if env is None else env)
    budget = RENDER_BUDGET + RENDER_PER_FIGURE * len(figures)
    process = _take(browser)
    try:
        answer, _ = process.communicate(job, timeout=budget)
    except subprocess.TimeoutExpired:
        _stop(process)
        raise ConfigError(
            f"Chromium at {browser} did not render {len(figures)} plot(s) within {budget:.0f} s",
            hint=_INSTALL_HINT,
        ) from None
    except BaseException:
        _stop(process)
        raise
    _forget(process)
    images = _images(answer, browser, process.returncode)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / name for name in file_names(figures)]
    for path, image in zip(paths, images, strict=True):
        path.write_bytes(image)
    return paths


def _images(answer: bytes, browser: str, code: int | None) -> list[bytes]:
    """The PNGs in the renderer's answer; ConfigError for a browser failure, RenderError otherwise."""
    try:
        result = json.loads(answer)
    except ValueError:
        raise RenderError(f"the plot renderer exited {code} without an answer") from None
    if "images" in result:
        return [base64.b64decode(image) for image in result["images"]]
    if result["error"] == "browser":
        reason = result["message"]
        raise ConfigError(f"Chromium at {browser} failed to render plots: {reason}", hint=_INSTALL_HINT)
    cause = RenderError(f"in the plot renderer:\n{result['traceback']}")  # shown with --debug
    raise RenderError(f"the plot renderer failed: {result['type']}: {result['message']}") from cause


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End ``process`` and everything below it (Chromium runs in a session of its own)."""
    proc.kill(proc.descendants({process.pid}))
    with suppress(OSError, subprocess.TimeoutExpired):
        process.wait(timeout=5)
    _forget(process)


#: plotly.js's cartesian bundle, vendored unchanged from npm (``vendor/README.md``: version, sha256,
#: licence): every trace type cml draws in a third of the full bundle's size, so Chromium opens the
#: page in about half the time, the largest single cost of a report's plots.
CARTESIAN = Path(__file__).parent / "vendor" / "plotly-cartesian.min.js"


def plotly_js() -> str:
    """The plotly.js the renderer loads, as a file URI (kaleido would fall back to a CDN): the vendored
    cartesian bundle, else the full bundle the plotly package ships.

    Raises ConfigError when neither is there.
    """
    if CARTESIAN.is_file():
        return CARTESIAN.as_uri()
    import plotly

    bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not bundled.is_file():
        raise ConfigError(f"plotly.js is missing from the plotly package: {bundled}", hint="reinstall plotly")
    return bundled.as_uri()
