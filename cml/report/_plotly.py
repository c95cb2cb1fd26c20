"""Turn a :class:`cml.report.plots.Figure` into a plotly.js figure dict (data + layout), styled for PRs.

Plain dicts, not ``plotly.graph_objects``: building and validating those costs ~35 ms a figure plus
~200 ms of template loading, while plotly.js in the browser takes the dict as it is.
"""

from __future__ import annotations

from typing import Any

from cml.report.plots import Figure, Series

#: ``base`` is the muted reference, ``head`` the highlighted change; other names take the colorway.
BASE_COLOR, HEAD_COLOR = "#8c8c8c", "#1f6feb"
COLORWAY = ("#1f6feb", "#e8590c", "#2f9e44", "#ae3ec9", "#c92a2a", "#0c8599", "#f08c00")
FONT = "Liberation Sans, Arial, sans-serif"
TEXT, GRID, AXIS = "#24292f", "#eaeef2", "#d0d7de"
#: ColorBrewer "Blues", white to dark (plotly.js's own "Blues" runs from dark blue to grey).
BLUES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
#: Heatmaps with more classes than this show colours only: the counts would not fit their cells.
MAX_ANNOTATED = 20

Dict = dict[str, Any]
#: A logarithmic axis labelled once a decade, as powers of ten (not "100μ").
_LOG: Dict = {"type": "log", "dtick": 1, "exponentformat": "power"}


def _is_base(series: Series) -> bool:
    """``base``, or ``<name> (base)`` as ``cml report`` names a head series' baseline."""
    return series.name == "base" or series.name.endswith(" (base)")


def _color(fig: Figure, series: Series) -> str:
    """Grey/blue for a lone base/head pair; else a head's colour, shared by its dashed baseline."""
    heads = [s.name.removesuffix(" (head)") for s in fig.series if not _is_base(s)]
    name = series.name.removesuffix(" (base)").removesuffix(" (head)")
    if series.name in ("base", "head") or len(heads) == 1:
        return BASE_COLOR if _is_base(series) else HEAD_COLOR
    index = heads.index(name) if name in heads else fig.series.index(series)
    return COLORWAY[index % len(COLORWAY)]


def _trace(fig: Figure, series: Series, index: int) -> Dict:
    color = _color(fig, series)
    common: Dict = {"name": series.name, "x": list(series.x), "y": list(series.y)}
    if fig.kind == "bar":
        text = [f"{v:.4g}" for v in series.y]
        return {**common, "type": "bar", "marker": {"color": color}, "text": text, "textposition": "outside",
                "cliponaxis": False}  # fmt: skip
    if fig.kind == "scatter":
        return {**common, "type": "scatter", "mode": "markers",
                "marker": {"color": color, "size": 8, "opacity": 0.85}}  # fmt: skip
    line = {
        "color": color,
        "width": 2.5,
        "dash": "dash" if _is_base(series) else "solid",
        "shape": "hv" if fig.kind == "step" else "linear",
    }
    return {**common, "type": "scatter", "mode": "lines", "line": line}


def _heatmap(fig: Figure) -> Dict:
    labels = [str(v) for v in fig.series[0].x]
    trace: Dict = {
        "type": "heatmap",
        "z": [list(row) for row in fig.z or []],
        "x": labels,
        "y": labels,
        "colorscale": [[i / (len(BLUES) - 1), c] for i, c in enumerate(BLUES)],
        "texttemplate": "%{z}" if len(labels) <= MAX_ANNOTATED else "",
        "textfont": {"size": 14},
        "colorbar": {"title": {"text": "count"}, "outlinewidth": 0},
    }
    if fig.text is not None:  # z is a 0..1 shade: white only at 0, then from BLUES[2] up
        shades = [[0.0, "#ffffff"], [1e-6, BLUES[2]]]
        shades += [[(i - 2) / (len(BLUES) - 3), c] for i, c in enumerate(BLUES) if i > 2]
        trace.update(text=[list(row) for row in fig.text], zmin=0, zmax=1, colorscale=shades, showscale=False)
        trace["texttemplate"] = "%{text}" if len(labels) <= MAX_ANNOTATED else ""
    return trace


def _axis(title: str, *, category: bool) -> Dict:
    axis: Dict = {
        "title": {"text": title, "standoff": 12},
        "gridcolor": GRID,
        "linecolor": AXIS,
        "showline": True,
        "zeroline": False,
        "ticks": "",
        "automargin": True,
    }
    return {**axis, "type": "category"} if category else axis


def _layout(fig: Figure) -> Dict:
    heatmap = fig.kind == "heatmap"
    category = heatmap or any(isinstance(v, str) for s in fig.series for v in s.x)
    layout: Dict = {
        "title": {"text": fig.title, "x": 0.5, "xanchor": "center", "font": {"size": 18}},
        "font": {"family": FONT, "size": 13, "color": TEXT},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "colorway": list(COLORWAY),
        "margin": {"l": 70, "r": 30, "t": 70, "b": 60},
        "showlegend": not heatmap,
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        "barmode": "group",
        "xaxis": {**_axis(fig.x_label, category=category), **(_LOG if fig.x_log else {})},
        "yaxis": _axis(fig.y_label, category=heatmap),
    }
    if heatmap:
        layout["xaxis"]["showgrid"] = layout["yaxis"]["showgrid"] = False
        layout["yaxis"]["autorange"] = "reversed"
    return layout


def to_plotly(fig: Figure) -> Dict:
    """The plotly.js figure (``{"data": [...], "layout": {...}}``) for ``fig``."""
    heatmap = fig.kind == "heatmap"
    data = [_heatmap(fig)] if heatmap else [_trace(fig, s, i) for i, s in enumerate(fig.series)]
    return {"data": data, "layout": _layout(fig)}
