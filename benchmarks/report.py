"""`cml report` with 20 plots, timed as a whole process (issue target: <= 8 s on a 2-core box).

Run: ./dev bench   (or .venv/bin/python benchmarks/report.py)
Builds a git repository with a base and a head commit and 20 plot files, runs
`python -m cml report --plot ... x20` once cold, and compares it with rendering each figure through
a fresh `plotly.io.write_image` call (one Chromium per figure), measured on 3 figures and extrapolated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N_PLOTS, N_BASELINE, TARGET_S = 20, 3, 8.0

_ONE_BROWSER_EACH = """
import time
import plotly.io as pio
from cml.report._plotly import to_plotly
from cml.report.plots import Figure, Series
xs = [i / 50 for i in range(51)]
for i in range({n}):
    fig = Figure(title=f"Figure {{i}}", kind="line", x_label="step", y_label="loss", series=[
        Series(name="base", x=xs, y=[1 - 0.5 * x * x for x in xs]),
        Series(name="head", x=xs, y=[1 - 0.3 * x * x for x in xs])])
    start = time.perf_counter()
    pio.write_image(to_plotly(fig), {out!r} + f"/{{i}}.png", width=800, height=450)
    print(time.perf_counter() - start)
"""


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@b"}  # fmt: skip
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _project(root: Path) -> list[str]:
    _git(root, "init", "-q", "-b", "main")
    flags: list[str] = ["--metrics", "metrics.json"]
    for side, shift in (("base", 0.0), ("head", 0.05)):
        (root / "metrics.json").write_text(json.dumps({"accuracy": 0.9 + shift, "loss": 0.3 - shift}))
        for i in range(N_PLOTS):
            rows = "\n".join(f"{s},{1 / (s + 1) + shift + i / 100:.4f}" for s in range(100))
            (root / f"curve{i}.csv").write_text(f"step,loss\n{rows}\n")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", side)
        if side == "base":
            _git(root, "checkout", "-q", "-b", "feature")
    for i in range(N_PLOTS):
        flags += ["--plot", f"curve{i}.csv:step:loss"]
    return flags


def main() -> None:
    """Print the whole-process time, the per-figure baseline and their ratio."""
    sys.path.insert(0, str(ROOT))
    from cml.report.plots import find_browser

    # kaleido alone looks for `chromium`/`chrome` by name; hand it the one cml finds.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BROWSER_PATH": find_browser(os.environ)}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        flags = _project(root)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cml", "report", *flags], cwd=root, env=env, check=True,
                       capture_output=True)  # fmt: skip
        whole = time.perf_counter() - start
        pngs = list((root / "cml-report").glob("*.png"))
        assert len(pngs) == N_PLOTS, f"expected {N_PLOTS} PNGs, got {len(pngs)}"
        out = subprocess.run([sys.executable, "-c", _ONE_BROWSER_EACH.format(n=N_BASELINE, out=tmp)],
                             env=env, check=True, capture_output=True, text=True).stdout  # fmt: skip
    each = [float(x) for x in out.split()]
    per_figure = sum(each) / len(each)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"cores: {os.cpu_count()}  load average: {load}")
    print(f"cml report with {N_PLOTS} plots, whole cold process: {whole:.2f} s (target <= {TARGET_S:.0f} s)")
    print(f"fresh write_image per figure: {per_figure:.2f} s -> {N_PLOTS * per_figure:.1f} s for {N_PLOTS}")
    print(f"ratio (one browser per figure / cml report): {N_PLOTS * per_figure / whole:.1f}x")
    print("PASS" if whole <= TARGET_S else "OVER TARGET")


if __name__ == "__main__":
    main()
