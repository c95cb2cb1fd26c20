"""The vendored plotly.js bundle is the file its README names, and the renderer loads it."""

from __future__ import annotations

import hashlib
import re

from cml.report import plots

VENDOR = plots.CARTESIAN.parent


def test_the_bundle_is_the_one_the_readme_names() -> None:
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    recorded = re.search(r"sha256 ([0-9a-f]{64})", readme)
    version = re.search(r"`plotly\.js-cartesian-dist-min` \*\*(\d+\.\d+\.\d+)\*\*", readme)
    assert recorded is not None
    assert version is not None
    data = plots.CARTESIAN.read_bytes()
    assert hashlib.sha256(data).hexdigest() == recorded[1]
    assert data.startswith(f"/**\n* plotly.js (cartesian - minified) v{version[1]}\n".encode())
    assert "MIT" in (VENDOR / "LICENSE.plotly.js").read_text(encoding="utf-8")


def test_it_is_the_same_plotly_js_version_as_the_plotly_package() -> None:
    """The figures are plotly.js dicts: the renderer should run the plotly.js the pinned plotly ships."""
    from pathlib import Path

    import plotly

    full = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()[:200]
    ours = plots.CARTESIAN.read_bytes()[:200]
    version = re.compile(rb"plotly\.js(?: \(cartesian - minified\))? v(\d+\.\d+\.\d+)")
    assert version.search(full)[1] == version.search(ours)[1]  # type: ignore[index]


def test_the_renderer_loads_the_vendored_bundle() -> None:
    assert plots.plotly_js() == plots.CARTESIAN.as_uri()
