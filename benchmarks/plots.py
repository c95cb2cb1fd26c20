"""How long `cml report` plots take: 20 figures through one browser vs one browser per figure.

Run: /work/main/.venv/bin/python benchmarks/plots.py
Times `cml.report.plots.render` of 20 figures as a whole fresh process (target: <= 8 s on 2 cores),
then a few plain `plotly.io.write_image` calls (each starts its own Chromium), extrapolated to 20.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N_FIGURES, N_BASELINE = 20, 3
TARGET_S = 8.0

_FIGURES = """
from cml.report.plots import Figure, Series
xs = [i / 50 for i in range(51)]
kinds = ["line", "step", "scatter", "bar"]
figures = [
    Figure(title=f"Figure {{i}}", kind=kinds[i % 4], x_label="recall", y_label="precision", series=[
        Series(name="base", x=xs, y=[1 - 0.5 * x * x for x in xs]),
        Series(name="head", x=xs, y=[1 - (0.3 + i / 100) * x * x for x in xs]),
    ])
    for i in range({n})
]
"""

_RENDER = (
    _FIGURES
    + """
from pathlib import Path
from cml.report.plots import render
paths = render(figures, Path({out!r}))
assert len(paths) == {n} and all(p.stat().st_size > 1000 for p in paths)
"""
)

_ONE_BROWSER_EACH = (
    _FIGURES
    + """
import time
import plotly.io as pio
from cml.report._plotly import to_plotly
for i, fig in enumerate(figures):
    start = time.perf_counter()
    pio.write_image(to_plotly(fig), {out!r} + f"/{{i}}.png", width=800, height=450)
    print(time.perf_counter() - start)
"""
)


def _python(code: str, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    """Print both timings and their ratio."""
    sys.path.insert(0, str(ROOT))
    from cml.report.plots import find_browser

    browser = find_browser(os.environ)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BROWSER_PATH": browser}
    with tempfile.TemporaryDirectory() as out:
        whole, _ = _python(_RENDER.format(n=N_FIGURES, out=out), env)
        start_only, _ = _python("import cml.report.plots", env)
        _, lines = _python(_ONE_BROWSER_EACH.format(n=N_BASELINE, out=out), env)
    each = [float(line) for line in lines.split()]
    per_figure = sum(each) / len(each)
    baseline = start_only + N_FIGURES * per_figure
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"browser: {browser}  cores: {os.cpu_count()}  load average: {load}")
    print(f"render() of {N_FIGURES} figures, whole fresh process: {whole:.2f} s (target <= {TARGET_S:.0f} s)")
    print(f"write_image, one browser per figure: {', '.join(f'{t:.2f}' for t in each)} s")
    print(f"  -> extrapolated to {N_FIGURES} figures: {baseline:.2f} s ({per_figure:.2f} s per figure)")
    print(f"speed-up of one browser for all: {baseline / whole:.1f}x")
    print("PASS" if whole <= TARGET_S else "OVER TARGET")


if __name__ == "__main__":
    main()
