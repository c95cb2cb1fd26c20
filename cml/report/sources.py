"""Which files a report reads: from flags, else ``dvc.yaml``, else a ``dvclive/`` folder.

Paths stay as the user wrote them, relative to the work tree root (so ``git show REV:path`` finds
them at the baseline). DVC itself is not needed: ``dvc.yaml`` is read as plain YAML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from cml.errors import InputError, UsageError
from cml.log import logger

PlotKind = Literal["line", "step", "scatter", "bar"]
KINDS: tuple[str, ...] = ("line", "step", "scatter", "bar", "confusion")
#: dvclive's sklearn plots (``plots/sklearn/NAME.json``): template, x, y and title, as dvclive 3 writes
#: them into ``dvc.yaml``.
SKLEARN: dict[str, tuple[str, str, str, str]] = {
    "confusion_matrix": ("confusion", "actual", "predicted", "Confusion Matrix"),
    "roc": ("simple", "fpr", "tpr", "Receiver operating characteristic (ROC)"),
    "precision_recall": ("simple", "recall", "precision", "Precision-Recall Curve"),
    "calibration": ("simple", "prob_pred", "prob_true", "Calibration Curve"),
}
#: ``y`` of a plot that names none: DVC takes the last column of the data.
LAST_COLUMN = ""
#: DVC plot templates and the figure kind each becomes.
TEMPLATES: dict[str, str] = {
    "linear": "line",
    "simple": "line",
    "smooth": "line",
    "scatter": "scatter",
    "bar_horizontal": "bar",
    "bar_horizontal_sorted": "bar",
    "confusion": "confusion",
    "confusion_normalized": "confusion",
}


@dataclass(frozen=True, kw_only=True)
class PlotSpec:
    """One figure: each series is ``(file, x column or None for the row index, y column)``.

    ``title``, ``x_label`` and ``y_label`` as ``dvc.yaml`` gives them; "" lets the figure name them
    from what it shows (``loss by step``, ``ROC``).
    """

    title: str
    kind: PlotKind
    series: tuple[tuple[str, str | None, str], ...]
    x_label: str = ""
    y_label: str = ""


@dataclass(frozen=True, kw_only=True)
class ConfusionSpec:
    """A confusion matrix from a table of (actual, predicted) pairs (``normalized``: shares of each
    actual class, DVC's ``confusion_normalized``; ``title`` "" for the default)."""

    path: str
    actual: str
    predicted: str
    title: str = ""
    normalized: bool = False


@dataclass(frozen=True, kw_only=True)
class Sources:
    """Everything a report reads."""

    metrics: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    param_keys: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (file, keys): only those keys of the file
    plots: tuple[PlotSpec, ...] = ()
    confusions: tuple[ConfusionSpec, ...] = ()
    origin: str = "flags"
    reader: Literal["builtin", "dvc"] = "builtin"  # "dvc": read by DVC (cml.report.dvcrepo)
    notes: tuple[str, ...] = ()  # what could not be read (shown in the report and on stderr)

    @property
    def empty(self) -> bool:
        """True when there is nothing to read."""
        return not (self.metrics or self.params or self.plots or self.confusions)


def parse_plot(spec: str) -> PlotSpec | ConfusionSpec:
    """``FILE:X:Y[:KIND]`` (Y may list columns with commas; X empty = row index)."""
    parts = spec.rsplit(":", 3) if spec.count(":") >= 3 else spec.rsplit(":", 2)
    kind = "line"
    if len(parts) == 4:
        kind = parts.pop()
    if len(parts) != 3 or not parts[0] or not parts[2] or kind not in KINDS:
        raise UsageError(f"--plot {spec!r}: expected FILE:X:Y[:KIND] with KIND one of {', '.join(KINDS)}")
    path, x, ys = parts
    if kind == "confusion":
        return ConfusionSpec(path=path, actual=x, predicted=ys)
    series = tuple((path, x or None, y) for y in ys.split(",") if y)
    return PlotSpec(title="", kind=kind, series=series)  # type: ignore[arg-type]


def parse_confusion(spec: str) -> ConfusionSpec:
    """``FILE:ACTUAL:PREDICTED``."""
    parts = spec.rsplit(":", 2)
    if len(parts) != 3 or not all(parts):
        raise UsageError(f"--confusion {spec!r}: expected FILE:ACTUAL:PREDICTED")
    return ConfusionSpec(path=parts[0], actual=parts[1], predicted=parts[2])


def from_flags(
    metrics: Sequence[str], params: Sequence[str], plots: Sequence[str], confusions: Sequence[str], root: Path
) -> Sources:
    """Sources named on the command line; a ``dvclive`` folder given as a file expands to its files."""
    plot_specs = [parse_plot(p) for p in plots]
    m, p, extra = list(metrics), list(params), list[PlotSpec]()
    for path in [*metrics, *params]:
        if (root / path).is_dir():
            live = dvclive(root, path)
            m = [x for x in m if x != path] + ([*live.metrics] if path in metrics else [])
            p = [x for x in p if x != path] + ([*live.params] if path in params else [])
            extra.extend(live.plots)
    return Sources(
        metrics=tuple(dict.fromkeys(m)),
        params=tuple(dict.fromkeys(p)),
        plots=(*[s for s in plot_specs if isinstance(s, PlotSpec)], *extra),
        confusions=(
            *[s for s in plot_specs if isinstance(s, ConfusionSpec)],
            *[parse_confusion(c) for c in confusions],
        ),
    )


def dvclive(root: Path, folder: str = "dvclive") -> Sources:
    """A dvclive output folder: ``metrics.json``, ``params.yaml``, ``plots/metrics/**/*.tsv``."""
    base = root / folder
    metrics = tuple(f"{folder}/{n}" for n in ("metrics.json",) if (base / n).is_file())
    params = tuple(f"{folder}/{n}" for n in ("params.yaml",) if (base / n).is_file())
    plots: list[PlotSpec] = []
    for tsv in sorted((base / "plots" / "metrics").rglob("*.tsv")):
        rel = tsv.relative_to(root).as_posix()
        name = tsv.relative_to(base / "plots" / "metrics").with_suffix("").as_posix()
        plots.append(PlotSpec(title="", kind="line", series=((rel, "step", tsv.stem),), y_label=name))
    sk = [
        sklearn(f.relative_to(root).as_posix()) for f in sorted((base / "plots" / "sklearn").glob("*.json"))
    ]
    if not (metrics or params or plots or sk):
        raise InputError(f"{base}: a folder, but not a dvclive output folder (no metrics.json, params.yaml)")
    return Sources(
        metrics=metrics,
        params=params,
        plots=(*plots, *[p for p in sk if isinstance(p, PlotSpec)]),
        confusions=tuple(p for p in sk if isinstance(p, ConfusionSpec)),
        origin=folder,
    )


def sklearn(path: str) -> PlotSpec | ConfusionSpec:
    """A dvclive sklearn plot file with dvclive's own template and axes (a line of the row index and
    the last column for an unknown name)."""
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    template, x, y, _ = SKLEARN.get(stem, ("linear", "", LAST_COLUMN, stem))
    if template == "confusion":
        return ConfusionSpec(path=path, actual=x, predicted=y)
    return PlotSpec(title="", kind="line", series=((path, x or None, y),))


def discover(root: Path, reader: str = "auto") -> Sources:
    """No file flags: the project as DVC reads it when ``reader`` chooses DVC (see
    :func:`cml.report.dvcrepo.choose`), else every ``dvc.yaml`` in the tree (see
    :func:`cml.report.dvcyaml.find`), else ``dvclive/``; empty Sources when none."""
    from cml.report import dvcrepo, dvcyaml

    if dvcrepo.choose(root, reader) == "dvc":
        try:
            return dvcrepo.discover(root)
        except dvcrepo.Rejected as exc:
            if reader == "dvc":
                raise
            note = f"{exc.message}; read with the built-in reader instead"
            logger.warning("%s", note)
            builtin = discover(root, "builtin")
            return replace(builtin, notes=(note, *builtin.notes))
    found = dvcyaml.find(root)
    if found:
        return dvcyaml.read_all(root, found)
    if (root / "dvclive").is_dir():
        return dvclive(root)
    return Sources(origin="none")
