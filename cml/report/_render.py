"""The plot renderer's own process: ``python -m cml.report._render BROWSER PLOTLYJS PROFILE [--debug]``.

It starts Chromium (through kaleido) at once, then reads one job from stdin, JSON
``{"figures": [plotly.js figure dicts], "opts": {"format", "width", "height", "scale"}}``, renders
every figure in one page and writes one JSON line to stdout: ``{"images": [base64 PNG, ...]}``, or
``{"error": "browser" | "figure", "message": ..., "traceback": ...}``. Nothing on stdin (the caller
ended without plots) ends the browser. Chromium keeps its profile in PROFILE, a folder the caller
made: after answering, the renderer kills the browser and removes it (see :func:`_end_browser`). It
leaves through ``os._exit``: kaleido's reader threads on a dead browser's pipe are not daemons and
would otherwise keep it alive.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import shutil
import sys
import traceback
from contextlib import suppress
from pathlib import Path
from typing import Any

#: Seconds kaleido may spend on one figure before it gives up.
FIGURE_TIMEOUT_S = 60.0
#: Seconds closing the browser may take before the process just leaves.
CLOSE_TIMEOUT_S = 5.0

Result = dict[str, Any]


def browser_errors() -> tuple[type[BaseException], ...]:
    """What kaleido and choreographer raise when Chromium is missing, dies or stops answering.

    Not kaleido's ``KaleidoError``/``JavascriptError``: plotly.js refusing a figure is a bug in the
    figure, not in the browser.
    """
    from choreographer.errors import (
        BrowserClosedError,
        BrowserFailedError,
        ChromeNotFoundError,
        DevtoolsProtocolError,
    )

    # OSError covers a broken pipe or channel (choreographer's ChannelClosedError), an executable that
    # cannot be run, and TimeoutError (a figure that took longer than FIGURE_TIMEOUT_S).
    return (BrowserClosedError, BrowserFailedError, ChromeNotFoundError, DevtoolsProtocolError, OSError)


def _failure(exc: BaseException) -> Result:
    """The JSON answer for ``exc``: a browser failure or a figure (or renderer) bug."""
    kind = "browser" if isinstance(exc, browser_errors()) else "figure"
    message = str(exc.args[0]) if exc.args else type(exc).__name__
    return {
        "error": kind,
        "message": message,
        "type": type(exc).__name__,
        "traceback": traceback.format_exc(),
    }


def kaleido_class() -> Any:
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


async def _open(browser: str, script: str, profile: str) -> Any:
    """Chromium with one page holding plotly.js (no MathJax, nothing fetched), its profile in ``profile``."""
    kaleido = kaleido_class()(
        n=1, path=browser, plotlyjs=script, mathjax=False, timeout=FIGURE_TIMEOUT_S, tmp_dir=profile
    )
    await kaleido.open()
    return kaleido


async def _close(kaleido: Any) -> None:
    with suppress(Exception, asyncio.TimeoutError):
        await asyncio.wait_for(kaleido.close(), CLOSE_TIMEOUT_S)


def _killable() -> bool:
    """Whether :func:`_end_browser` can find the browser's processes (Linux ``/proc``): then it is
    killed at once after the answer, else (macOS) closed through the devtools protocol first."""
    return Path("/proc/self/stat").is_file()


async def serve(browser: str, script: str, profile: str) -> Result | None:
    """Open the browser while the job is being read from stdin and render it; the browser is closed
    here only where it cannot be killed afterwards (see :func:`_killable`)."""
    opening = asyncio.create_task(_open(browser, script, profile))
    job = await asyncio.to_thread(sys.stdin.buffer.read)
    if not job:  # the caller ended without plots
        opening.cancel()
        if not _killable():
            with suppress(BaseException):
                await _close(await opening)
        return None
    try:
        kaleido = await asyncio.wait_for(opening, FIGURE_TIMEOUT_S)
    except Exception as exc:
        return _failure(exc)
    try:
        spec = json.loads(job, parse_constant=_null)
        images = [await kaleido.calc_fig(fig, opts=spec["opts"]) for fig in spec["figures"]]
        return {"images": [base64.b64encode(image).decode() for image in images]}
    except Exception as exc:
        return _failure(exc)
    finally:
        if not _killable():
            await _close(kaleido)


def _end_browser(profile: str) -> None:
    """SIGKILL every process below this one (Chromium, its helpers, choreographer's wrapper), wait
    until they are gone (at most :data:`CLOSE_TIMEOUT_S`), then remove the browser's profile folder.

    A throwaway headless browser holds nothing worth a graceful close, which costs ~70 ms on the
    caller's path; its profile is ours (``tmp_dir``), so nothing is left behind.
    """
    from cml import proc

    proc.kill(proc.descendants(proc.children()) - {os.getpid()}, wait=CLOSE_TIMEOUT_S)
    shutil.rmtree(profile, ignore_errors=True)


def _null(_constant: str) -> None:
    """NaN, Infinity and -Infinity in a job become null, as plotly's JSON encoder writes them (the
    devtools protocol takes strict JSON; plotly.js draws null as a gap)."""
    return


def _without_plotly_python() -> None:
    """Keep kaleido from importing ``plotly.utils`` (with it narwhals and plotly's validators: ~40 ms
    before Chromium can start). The job is plain JSON built by the caller, so the renderer needs none
    of plotly's Python side; kaleido runs without plotly by design and then sends figures with json's
    own encoder (:func:`_null` keeps them strict JSON)."""
    sys.modules.setdefault("plotly.utils", None)  # type: ignore[arg-type]  # None: "cannot be imported"


def _quiet(debug: bool) -> None:
    """Browser chatter and kaleido's notes go to stderr only with ``--debug``."""
    logging.basicConfig(level=logging.DEBUG if debug else logging.CRITICAL, stream=sys.stderr)
    for name in ("choreographer", "kaleido", "logistro", "browser_proc"):
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.CRITICAL)


def main(argv: list[str]) -> None:
    """Serve one job and leave at once (see the module docstring)."""
    answer = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever a library prints must not mix with the answer
    browser, script, profile = argv[0], argv[1], argv[2]  # profile: an empty folder the caller made
    _quiet("--debug" in argv[3:])
    _without_plotly_python()
    try:
        result = asyncio.run(serve(browser, script, profile))
    except BaseException as exc:  # the answer must be written whatever happened
        result = _failure(exc)
    if result is not None:
        answer.write(json.dumps(result) + "\n")
    answer.flush()
    _end_browser(profile)  # a browser that did not close (or hung while starting) goes with us
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
