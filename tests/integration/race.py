"""Real parallel ``cml`` processes against a fake forge, made to race where it hurts.

:func:`hold` makes a fake send its answers to the first ``n`` matching requests only once all ``n``
are answered, so every run reads the comments before any of them posts: each one then creates, and only the
re-read after creating can leave one comment. :func:`run_all` starts the processes together.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import cml
from tests.fakes.http import FakeServer, Reply, Request

_ROOT = Path(cml.__file__).resolve().parents[1]  # the checkout whose cml the test imported
_WAIT = 30.0


@dataclass(frozen=True)
class Done:
    """One finished process."""

    code: int
    out: str
    err: str


def hold(fake: FakeServer, method: str, path: str, n: int) -> None:
    """Answer the first ``n`` ``method`` requests whose path matches ``path`` only once all ``n`` are
    answered: each answer is what the forge held before any of those runs went on."""
    barrier = threading.Barrier(n, timeout=_WAIT)
    count = [0]
    lock = threading.Lock()
    dispatch = fake.dispatch

    def held(req: Request) -> Reply:
        reply = dispatch(req)
        if req.method == method and re.search(path, req.path):
            with lock:
                count[0] += 1
                mine = count[0] <= n
            if mine:
                with contextlib.suppress(threading.BrokenBarrierError):  # a run died: let the rest go
                    barrier.wait()
        return reply

    fake.dispatch = held  # type: ignore[method-assign]


def run_all(argvs: list[list[str]], env: dict[str, str], cwd: Path) -> list[Done]:
    """Start ``python -m cml ARGV`` for each argv at once in ``cwd``; wait for all of them."""
    full = {**os.environ, **env, "PYTHONPATH": str(_ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cml", *argv],
            cwd=cwd,
            env=full,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        done.append(Done(code=proc.returncode, out=out, err=err))
    return done


def leaks(token: str, text: str) -> bool:
    """True when ``text`` holds ``token`` or its base64 outside the one ``::add-mask::`` line."""
    text = text.replace(f"::add-mask::{token}", "", 1)
    forms = [token, base64.b64encode(token.encode()).decode().rstrip("=")]
    return any(form in text for form in forms)
