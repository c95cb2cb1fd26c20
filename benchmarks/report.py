"""A 20-plot `cml report`, whole process: wall time and peak memory of the whole process tree.

Run from the repository root: ``python benchmarks/report.py [--runs N]``. It builds a git repository
(base commit on ``main``, head on ``feature``) with a metrics file and 20 CSV curves of 100 steps, then
runs, alternated (order flipped every round), ``--runs`` rounds (default 5) of:

- ``cml report --metrics metrics.json --plot curveI.csv:step:loss`` x20 (``python -m cml``);
- the same with ``cml.report.plots.prepare()`` called first (what the report pipeline does once the
  hook is in: Chromium starts while git and the data are read);
- what a user would write instead: a script that reads the same files at head and at base
  (``git show main:...``), builds a ``go.Figure`` per plot and calls ``plotly.io.write_images`` once
  (one browser for all), then writes a metrics table.

Memory: every 50 ms the summed ``VmRSS`` and ``Pss`` (``/proc/<pid>/status``, ``smaps_rollup``) of
the process and all its descendants, Chromium included; the peak per run. RSS counts Chromium's shared
pages once per process, PSS shares them out. All sides use the same Chromium (``BROWSER_PATH``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import Sample, child_env, machine, run_sampled, spread

from cml.report.plots import find_browser

N_PLOTS = 20

PREPARED = """
import sys
from cml.report import plots
plots.prepare()
from cml.cli import main
sys.exit(main(sys.argv[1:]))
"""

PLOTLY = """
import csv, io, json, subprocess, sys
from pathlib import Path
import plotly.graph_objects as go
import plotly.io as pio

def rows(text):
    return list(csv.DictReader(io.StringIO(text)))

def at_base(name):
    return subprocess.run(["git", "show", f"main:{name}"], capture_output=True, text=True, check=True).stdout

figures, paths = [], []
out = Path("plotly-report")
out.mkdir(exist_ok=True)
for i in range(int(sys.argv[1])):
    name = f"curve{i}.csv"
    head, base = rows(Path(name).read_text()), rows(at_base(name))
    figures.append(go.Figure(
        data=[go.Scatter(x=[float(r["step"]) for r in base], y=[float(r["loss"]) for r in base],
                         name="loss (base)", mode="lines", line={"dash": "dash"}),
              go.Scatter(x=[float(r["step"]) for r in head], y=[float(r["loss"]) for r in head],
                         name="loss", mode="lines")],
        layout={"title": {"text": f"loss ({name})"}, "xaxis": {"title": {"text": "step"}},
                "yaxis": {"title": {"text": "loss"}}},
    ))
    paths.append(out / f"{i:02d}.png")
pio.write_images(figures, paths, width=800, height=450)
head, base = json.loads(Path("metrics.json").read_text()), json.loads(at_base("metrics.json"))
lines = ["| metric | base | head |", "|---|---|---|"]
lines += [f"| {k} | {base.get(k)} | {v} |" for k, v in head.items()]
lines += [f"![{p.stem}]({p.name})" for p in paths]
(out / "report.md").write_text("\\n".join(lines) + "\\n")
"""


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@b"}  # fmt: skip
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _project(root: Path) -> list[str]:
    """A repository with base on main and head on feature (checked out); the report's flags."""
    _git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("cml-report/\nplotly-report/\n.cml/\n")
    for side, shift in (("base", 0.0), ("head", 0.05)):
        (root / "metrics.json").write_text(json.dumps({"accuracy": 0.9 + shift, "loss": 0.3 - shift}))
        for i in range(N_PLOTS):
            rows = "\n".join(f"{s},{1 / (s + 1) + shift + i / 100:.4f}" for s in range(100))
            (root / f"curve{i}.csv").write_text(f"step,loss\n{rows}\n")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", side)
        if side == "base":
            _git(root, "checkout", "-q", "-b", "feature")
    flags = ["report", "--metrics", "metrics.json"]
    for i in range(N_PLOTS):
        flags += ["--plot", f"curve{i}.csv:step:loss"]
    return flags


def _check(root: Path, folder: str) -> None:
    pngs = list((root / folder).glob("*.png"))
    assert len(pngs) == N_PLOTS, f"{folder}: expected {N_PLOTS} PNGs, got {len(pngs)}"


def main() -> None:
    """Print each side's median time and peak tree memory with their spread."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds per side (default 5, at least 5)")
    runs = max(5, parser.parse_args().runs)
    env = child_env({"BROWSER_PATH": find_browser(os.environ)})
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        flags = _project(root)
        sides = {
            "cml report": ([py, "-m", "cml", *flags], "cml-report"),
            "cml report + prepare()": ([py, "-c", PREPARED, *flags], "cml-report"),
            "plotly script": ([py, "-c", PLOTLY, str(N_PLOTS)], "plotly-report"),
        }
        samples = {name: Sample() for name in sides}
        for argv, _ in sides.values():  # warm the page cache, untimed
            run_sampled(argv, env=env, cwd=root)
        for round_ in range(runs):
            for name in list(sides) if round_ % 2 == 0 else list(sides)[::-1]:
                argv, folder = sides[name]
                seconds, rss, pss = run_sampled(argv, env=env, cwd=root)
                _check(root, folder)
                samples[name].seconds.append(seconds)
                samples[name].rss_mib.append(rss / 1024)
                samples[name].pss_mib.append(pss / 1024)
    print(f"machine: {machine()}")
    print(
        f"{N_PLOTS}-plot report, whole process tree, alternated, {runs} runs per side (memory sampled every 50 ms):"
    )
    for name, s in samples.items():
        print(f"  {name:24} time {spread(s.seconds)}")
        print(f"  {'':24} peak RSS {spread(s.rss_mib, 'MiB', 0)}, peak PSS {spread(s.pss_mib, 'MiB', 0)}")
    base = statistics.median(samples["plotly script"].seconds)
    for name in ("cml report", "cml report + prepare()"):
        print(
            f"  ratio of medians (plotly script / {name}): {base / statistics.median(samples[name].seconds):.2f}x"
        )


if __name__ == "__main__":
    main()
