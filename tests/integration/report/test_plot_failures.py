"""What `cml report` does when plots fail: a missing or dying Chromium is a note in the report, a bug in
building a figure is an internal error (traceback with --debug), and no browser outlives cml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cml.cli import main
from cml.errors import ConfigError
from cml.report import _plotly, plots

PLOT = ("--metrics", "metrics.json", "--plot", "train.csv:epoch:acc")
ROOT = str(Path(__file__).parents[3])


def _report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv), {})
    return code, capsys.readouterr().err


def test_a_bug_building_a_figure_is_an_internal_error(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(fig: plots.Figure) -> dict[str, object]:
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")

    monkeypatch.setattr(_plotly, "to_plotly", broken)
    code, err = _report(capsys, "report", *PLOT)
    assert code == 1
    assert "cml: internal error: TypeError: unsupported operand" in err
    assert "chromium" not in err.lower()
    assert "Traceback" not in err
    assert not (project / "cml-report" / "report.md").exists()  # no report with a silent note

    code, err = _report(capsys, "--debug", "report", *PLOT)
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert 'in broken\n    raise TypeError("unsupported operand' in err


@pytest.mark.slow
def test_a_figure_plotly_js_refuses_is_an_internal_error(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bug shows only once Chromium has the figure: still an internal error, the renderer's own
    traceback under --debug."""
    monkeypatch.setattr(_plotly, "to_plotly", lambda fig: {"data": 5, "layout": {}})
    code, err = _report(capsys, "report", *PLOT)
    assert code == 1
    assert "cml: internal error: RenderError: the plot renderer failed: KaleidoError: " in err
    assert "non-array figure data" in err
    assert "Traceback" not in err
    code, err = _report(capsys, "--debug", "report", *PLOT)
    assert code == 1
    assert "in the plot renderer:\nTraceback (most recent call last):" in err
    assert "raise KaleidoError(" in err


def _note(project: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    code, err = _report(capsys, "report", *PLOT)
    assert code == 0, err
    return err, (project / "cml-report" / "report.md").read_text()


def test_browser_path_to_nothing_is_a_note(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = project.parent / "no-such-chrome"
    monkeypatch.setenv("BROWSER_PATH", str(missing))
    err, report = _note(project, capsys)
    assert f"plots not rendered: BROWSER_PATH={missing} is not an executable file" in err
    assert f"> Plots not rendered: BROWSER_PATH={missing} is not an executable file" in report
    assert "![" not in report
    assert "| accuracy |" in report  # the tables stay


def test_no_chromium_on_path_is_a_note(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = project.parent / "bin"
    bin_dir.mkdir()
    git = shutil.which("git")
    assert git
    (bin_dir / "git").symlink_to(git)
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    monkeypatch.setenv("PATH", str(bin_dir))
    err, report = _note(project, capsys)
    assert "plots not rendered: no Chromium found on PATH" in err
    assert "> Plots not rendered: no Chromium found on PATH to render plots" in report


@pytest.mark.slow
def test_a_browser_that_dies_is_a_note(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    false = shutil.which("false")
    assert false
    monkeypatch.setenv("BROWSER_PATH", false)
    err, report = _note(project, capsys)
    assert f"plots not rendered: Chromium at {false} failed to render plots" in err
    assert f"> Plots not rendered: Chromium at {false} failed to render plots" in report


def test_the_renderers_answers() -> None:
    """A browser failure is a ConfigError naming it; anything else the renderer says is a bug."""
    ok = plots._images(b'{"images": ["iVBORw=="]}', "/bin/chrome", 0)
    assert ok == [b"\x89PNG"]
    with pytest.raises(ConfigError, match="Chromium at /bin/chrome failed to render plots: pipe closed"):
        plots._images(b'{"error": "browser", "message": "pipe closed"}', "/bin/chrome", 0)
    bug = b'{"error": "figure", "type": "KaleidoError", "message": "bad trace", "traceback": "Traceback: x"}'
    with pytest.raises(
        plots.RenderError, match=r"^the plot renderer failed: KaleidoError: bad trace$"
    ) as info:
        plots._images(bug, "/bin/chrome", 0)
    assert str(info.value.__cause__) == "in the plot renderer:\nTraceback: x"  # printed with --debug
    with pytest.raises(plots.RenderError, match="exited -9 without an answer"):
        plots._images(b"", "/bin/chrome", -9)


_PREPARED = """
import sys, time
from cml import proc
from cml.report import plots
plots.prepare(env={"BROWSER_PATH": sys.argv[1]})
deadline = time.monotonic() + 20
while not proc.descendants({plots._started[0].process.pid}) - {plots._started[0].process.pid}:
    assert time.monotonic() < deadline, "the renderer never started the browser"
    time.sleep(0.05)
print(max(proc.descendants({plots._started[0].process.pid})), flush=True)
"""


@pytest.mark.slow
def test_a_prepared_browser_ends_with_the_caller(tmp_path: Path) -> None:
    """``prepare()`` then no plots after all: when the caller exits, the renderer and its browser go too,
    even a browser that never answers."""
    hung = tmp_path / "chromium"
    hung.write_text("#!/bin/sh\nexec sleep 600\n")
    hung.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": ROOT}
    done = subprocess.run(
        [sys.executable, "-c", _PREPARED, str(hung)],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    browser = int(done.stdout.strip())
    deadline = time.monotonic() + 20
    while Path(f"/proc/{browser}").exists() and "sleep" in Path(f"/proc/{browser}/cmdline").read_text():
        assert time.monotonic() < deadline, "the prepared browser outlived its caller"
        time.sleep(0.1)


@pytest.mark.slow
def test_prepare_then_render(tmp_path: Path) -> None:
    """The renderer ``prepare()`` started is the one ``render()`` uses."""
    try:
        browser = plots.find_browser(os.environ)
    except ConfigError as exc:
        pytest.fail(f"this test needs Chromium: {exc}")
    plots.prepare(env={"BROWSER_PATH": browser})
    assert len(plots._started) == 1
    started = plots._started[0].process
    fig = plots.Figure(title="loss", kind="line", x_label="step", y_label="loss",
                       series=[plots.Series(name="head", x=[0, 1], y=[1.0, 0.5])])  # fmt: skip
    (path,) = plots.render([fig], tmp_path, env={"BROWSER_PATH": browser})
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert plots._started == []
    assert started.poll() == 0  # it served this render and left


def test_a_report_that_fails_before_its_plots_leaves_no_browser(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cml report` starts Chromium early (while it reads the data); bad data afterwards must not leave
    that renderer (and its browser, which `_stop` ends with it) running in a library caller's process."""
    from tests.integration.report.conftest import write

    plots.find_browser(os.environ)  # a real Chromium, or ConfigError: this test needs one
    plots.release()  # none left over from an earlier test in this process
    spawned: list[subprocess.Popen[bytes]] = []
    real_spawn = plots._spawn

    def spawn(browser: str) -> subprocess.Popen[bytes]:
        spawned.append(real_spawn(browser))
        return spawned[-1]

    monkeypatch.setattr(plots, "_spawn", spawn)
    write(project, {"metrics.json": '{"accuracy": 0.9,\n "loss": }'})  # bad JSON, read after prepare()
    code, err = _report(capsys, "report", *PLOT)
    assert code == 2
    assert "metrics.json: line 2 column 10: invalid JSON" in err
    assert len(spawned) == 1  # it was started early ...
    assert spawned[0].poll() is not None  # ... and ended when report() failed
    assert plots._started == []
