"""Turn a :class:`cml.report.plots.Figure` into a styled plotly figure (imported only when rendering)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from cml.report.plots import Figure, Series

#: ``base`` is the muted reference, ``head`` the highlighted change; other names take the colorway.
BASE_COLOR, HEAD_COLOR = "#8c8c8c", "#1f6feb"
COLORWAY = ("#1f6feb", "#e8590c", "#2f9e44", "#ae3ec9", "#c92a2a", "#0c8599", "#f08c00")
FONT = "Liberation Sans, Arial, sans-serif"
#: Heatmaps with more classes than this show colours only: the counts would not fit their cells.
MAX_ANNOTATED = 20


def _color(series: Series, index: int) -> str:
    return {"base": BASE_COLOR, "head": HEAD_COLOR}.get(series.name, COLORWAY[index % len(COLORWAY)])


def _categorical(values: Any) -> bool:
    return any(isinstance(v, str) for v in values)


def _trace(fig: Figure, series: Series, index: int) -> Any:
    color = _color(series, index)
    common: dict[str, Any] = {"name": series.name, "x": list(series.x), "y": list(series.y)}
    if fig.kind == "bar":
        text = [f"{v:.4g}" for v in series.y]
        return go.Bar(**common, marker_color=color, text=text, textposition="outside", cliponaxis=False)
    if fig.kind == "scatter":
        return go.Scatter(**common, mode="markers", marker={"color": color, "size": 8, "opacity": 0.8})
    dash = "dash" if series.name == "base" else "solid"
    shape = "hv" if fig.kind == "step" else "linear"
    return go.Scatter(
        **common, mode="lines", line={"color": color, "width": 2.5, "dash": dash, "shape": shape}
    )


def _heatmap(fig: Figure) -> Any:
    labels = [str(v) for v in fig.series[0].x]
    return go.Heatmap(
        z=[list(row) for row in fig.z or []],
        x=labels,
        y=labels,
        colorscale="Blues",
        texttemplate="%{z}" if len(labels) <= MAX_ANNOTATED else "",
        textfont={"size": 14},
        hoverongaps=False,
        colorbar={"title": {"text": "count"}},
    )


def to_plotly(fig: Figure) -> Any:
    """A ``plotly.graph_objects.Figure`` for ``fig``: white background, title, axis labels, legend."""
    if fig.kind == "heatmap":
        traces = [_heatmap(fig)]
    else:
        traces = [_trace(fig, s, i) for i, s in enumerate(fig.series)]
    out = go.Figure(data=traces)
    out.update_layout(
        template="plotly_white",
        title={"text": fig.title, "x": 0.5, "xanchor": "center", "font": {"size": 18}},
        font={"family": FONT, "size": 13, "color": "#24292f"},
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin={"l": 70, "r": 30, "t": 70, "b": 60},
        showlegend=fig.kind != "heatmap",
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        barmode="group",
    )
    out.update_xaxes(title_text=fig.x_label, showline=True, linecolor="#d0d7de", zeroline=False)
    out.update_yaxes(title_text=fig.y_label, showline=True, linecolor="#d0d7de", zeroline=False)
    if fig.kind == "heatmap":
        out.update_xaxes(type="category", side="bottom", showgrid=False)
        out.update_yaxes(type="category", autorange="reversed", showgrid=False)
    elif any(_categorical(s.x) for s in fig.series):
        out.update_xaxes(type="category")
    return out
