"""How long 20 report plots take: cml's renderer against plotly's own batch call, whole process each.

Run from the repository root: ``python benchmarks/plots.py [--runs N]`` (the venv's python, cml
installed or on ``PYTHONPATH``). Each run of each side is a fresh ``python`` process that imports what
it needs, builds the same 20 line plots (base and head, 100 points each, 800x450 PNG) and writes them:

- cml: ``cml.report.plots.prepare()`` first (as ``cml report`` does while it reads the data), then
  ``render(figures, out)``;
- plotly: what a user would write instead: ``go.Figure`` per plot, then one
  ``plotly.io.write_images(figs, paths)``, which renders every figure in one browser.

Both use the same Chromium (``BROWSER_PATH``, found as cml finds it). The sides alternate (order flipped
every round), ``--runs`` rounds (default 6); it prints medians with min-max and the ratio of medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from _common import alternate, child_env, machine, run, spread

from cml.report.plots import find_browser

N_FIGURES, TARGET = 20, 3.0

_DATA = """
steps = list(range(100))
curves = [
    ([1 / (s + 1) + i / 100 for s in steps], [1 / (s + 1.2) + i / 100 for s in steps])
    for i in range({n})
]
"""

OURS = (
    """
import sys
from pathlib import Path
from cml.report import plots
plots.prepare()
"""
    + _DATA
    + """
figures = [
    plots.Figure(title=f"loss {{i}}", kind="line", x_label="step", y_label="loss", series=[
        plots.Series(name="loss (base)", x=steps, y=base), plots.Series(name="loss", x=steps, y=head)])
    for i, (base, head) in enumerate(curves)
]
paths = plots.render(figures, Path(sys.argv[1]))
print(len(paths))
"""
)

PLOTLY = (
    """
import sys
from pathlib import Path
import plotly.graph_objects as go
import plotly.io as pio
"""
    + _DATA
    + """
figures = [
    go.Figure(
        data=[go.Scatter(x=steps, y=base, name="loss (base)", mode="lines", line={{"dash": "dash"}}),
              go.Scatter(x=steps, y=head, name="loss", mode="lines")],
        layout={{"title": {{"text": f"loss {{i}}"}}, "xaxis": {{"title": {{"text": "step"}}}},
                "yaxis": {{"title": {{"text": "loss"}}}}}},
    )
    for i, (base, head) in enumerate(curves)
]
out = Path(sys.argv[1])
paths = [out / f"{{i:02d}}.png" for i in range(len(figures))]
pio.write_images(figures, paths, width=800, height=450)
print(len(paths))
"""
)


def _side(code: str, env: dict[str, str], out: Path) -> None:
    """One fresh process running ``code`` into an empty ``out``; checks it wrote N_FIGURES PNGs."""
    for old in out.glob("*"):
        old.unlink()
    run([sys.executable, "-c", code, str(out)], env=env)
    pngs = [p for p in out.glob("*.png") if p.read_bytes()[:4] == b"\x89PNG"]
    assert len(pngs) == N_FIGURES, f"expected {N_FIGURES} PNGs, got {len(pngs)}"


def main() -> None:
    """Print both sides' medians with their spread, and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6, help="rounds per side (default 6, at least 5)")
    runs = max(5, parser.parse_args().runs)
    browser = find_browser(os.environ)
    env = child_env({"BROWSER_PATH": browser})
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs = Path(tmp, "cml"), Path(tmp, "plotly")
        ours.mkdir()
        theirs.mkdir()
        code_ours, code_theirs = OURS.format(n=N_FIGURES), PLOTLY.format(n=N_FIGURES)
        _side(code_ours, env, ours)  # warm the page cache for both, untimed
        _side(code_theirs, env, theirs)
        times = alternate(
            {"cml": lambda: _side(code_ours, env, ours), "plotly": lambda: _side(code_theirs, env, theirs)},
            runs,
        )
    ratio = statistics.median(times["plotly"]) / statistics.median(times["cml"])
    print(f"machine: {machine()}; browser: {browser}")
    print(
        f"{N_FIGURES} line plots (800x450 PNG), whole fresh process each, alternated, {runs} runs per side:"
    )
    print(f"  cml render (prepare + render)       {spread(times['cml'])}")
    print(f"  plotly write_images (go.Figure)     {spread(times['plotly'])}")
    print(f"  per figure: cml {statistics.median(times['cml']) / N_FIGURES:.3f} s, "
          f"plotly {statistics.median(times['plotly']) / N_FIGURES:.3f} s")  # fmt: skip
    print(f"  ratio of medians (plotly / cml): {ratio:.2f}x (target >= {TARGET:.0f}x)")


if __name__ == "__main__":
    main()
