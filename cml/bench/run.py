"""What ``cml bench`` does, as one library function: :func:`bench`.

parse targets and gate rules (bad input fails before any work) → find the base's results (``--baseline``
or the data block on the base commit's "Mobile benchmark" comment) → convert (one child process: one
TensorFlow start, which also saves the original model's outputs for accuracy) → time on each target →
accuracy (a child process with ai-edge-litert), while the latency plot is drawn: timing runs alone, and
the browser's start overlaps the accuracy pass → :class:`~cml.bench.Results` → ``results.json``, the
plot and ``report.md`` in the output folder → with ``post``, the sticky comment → the gate's verdict
(the caller raises GateFailed, exit 8, after printing).

The layers it drives (``cml.bench.convert``, ``.accuracy``, ``.targets``) are imported when it runs, not
when this module loads, and can be handed in as :class:`Parts` (tests use stand-ins).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from cml.bench import (
    ORIGINAL_OUTPUTS,
    VARIANTS,
    Accuracy,
    Converted,
    Latency,
    Method,
    Results,
    Target,
    Variant,
    VariantResult,
)
from cml.bench import report as render
from cml.bench import results as res
from cml.ci import CIContext
from cml.comment import Posted
from cml.errors import CmlError, ConfigError, InputError
from cml.forges import Forge
from cml.log import logger
from cml.report.budget import Section
from cml.report.diff import MetricRow, metric_rows
from cml.report.direction import direction
from cml.report.gate import GateResult, Rule, evaluate
from cml.session import Access

REPORT, RESULTS, MODELS, LOG = "report.md", "results.json", "models", "convert.log"
ACCURACY_LOG = "accuracy.log"


class ConvertFn(Protocol):
    """``cml.bench.convert.convert``."""

    def __call__(
        self,
        model: Path,
        variants: Sequence[Variant],
        out_dir: Path,
        *,
        representative: Path | None,
        eval_data: Path | None,
        log: Path,
    ) -> list[Converted]: ...


class EvaluateFn(Protocol):
    """``cml.bench.accuracy.evaluate``."""

    def __call__(
        self,
        models: dict[Variant, Path],
        original: Path | None,
        *,
        eval_data: Path | None,
        representative: Path | None,
        log: Path | None = None,
    ) -> dict[Variant, Accuracy]: ...


class ParseTargetFn(Protocol):
    """``cml.bench.targets.parse_target``."""

    def __call__(self, spec: str, **options: Any) -> Target: ...


@dataclass(frozen=True, kw_only=True)
class Parts:
    """The layers :func:`bench` drives."""

    convert: ConvertFn
    evaluate: EvaluateFn
    parse_target: ParseTargetFn


def parts() -> Parts:
    """The real layers; ConfigError when this install lacks one of them."""
    try:
        convert = importlib.import_module("cml.bench.convert")
        accuracy = importlib.import_module("cml.bench.accuracy")
        targets = importlib.import_module("cml.bench.targets")
    except ModuleNotFoundError as exc:
        raise ConfigError(f"cml bench is incomplete in this install (no {exc.name})") from None
    return Parts(convert=convert.convert, evaluate=accuracy.evaluate, parse_target=targets.parse_target)


@dataclass(frozen=True, kw_only=True)
class TargetOptions:
    """What the ssh:// and adb:// targets need; passed to ``parse_target`` only when set."""

    setup: bool = False
    benchmark_binary: Path | None = None
    identity: Path | None = None
    known_hosts: Path | None = None
    accept_new: bool = False

    def given(self) -> dict[str, Any]:
        """The options that differ from their defaults, by keyword."""
        defaults = TargetOptions()
        return {k: v for k, v in vars(self).items() if v != getattr(defaults, k)}


@dataclass(frozen=True, kw_only=True)
class Options:
    """What the user asked for."""

    model: Path
    variants: tuple[Variant, ...] = VARIANTS
    representative: Path | None = None
    eval_data: Path | None = None
    targets: tuple[str, ...] = ("local",)
    target_options: TargetOptions = field(default_factory=TargetOptions)
    method: Method = field(default_factory=Method)
    output: Path = Path("cml-bench")
    title: str = render.TITLE
    rules: tuple[Rule, ...] = ()
    baseline: Path | None = None
    post: bool = False


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What one run measured, wrote, posted and concluded."""

    results: Results
    base: Results | None
    base_origin: str
    report: Path
    json: Path
    gate: GateResult
    metrics: dict[str, float]
    posted: Posted | None = None
    dropped: tuple[str, ...] = ()


def bench(
    opts: Options,
    *,
    ctx: CIContext,
    forge: Forge | None,
    cwd: Path | None,
    token: str = "",
    layers: Parts | None = None,
) -> Outcome:
    """Run the whole benchmark (see the module docstring); raises InputError/UsageError (exit 2) for
    bad input before any work, ConfigError (3) for a missing runtime, HostError (4) for a target that
    cannot be reached, ForgeError (4) when posting fails."""
    for flag, path in (
        ("MODEL", opts.model),
        ("--eval", opts.eval_data),
        ("--representative", opts.representative),
    ):
        if path is not None and not path.exists():
            raise InputError(f"{path}: no such file or folder ({flag})")
    layers = layers or parts()
    targets = [layers.parse_target(spec, **opts.target_options.given()) for spec in opts.targets]
    evaluate([*opts.rules], _rows(expected(opts, targets), None))  # unknown metric names fail now
    base, origin = find_base(opts, ctx=ctx, forge=forge, cwd=cwd, token=token)
    out = opts.output
    logger.info("cml bench: converting %s to %s", opts.model, ", ".join(opts.variants))
    converted = layers.convert(
        opts.model,
        opts.variants,
        out / MODELS,
        representative=opts.representative,
        eval_data=opts.eval_data,
        log=out / LOG,
    )
    models = {c.variant: c.path for c in converted if c.path is not None}
    if not models:
        why = "; ".join(f"{c.variant}: {c.error or c.note}" for c in converted) or "no variant asked for"
        raise InputError(f"{opts.model}: no variant could be converted ({why})")
    timed = _time(targets, models, opts)
    with ThreadPoolExecutor(max_workers=1) as pool:  # the plot shows latency only: drawn meanwhile
        pending = pool.submit(_accuracy, opts, models, layers, out / MODELS)
        plot = _plot(assemble(opts, ctx.sha, converted, {}, targets, timed), base, out)
        accuracy = pending.result()
    results = assemble(opts, ctx.sha, converted, accuracy, targets, timed)
    head = res.metrics(results)
    gate = evaluate([*opts.rules], _rows(expected(opts, targets), base, head))
    report = render.BenchReport(title=opts.title, results=results, base=base, base_origin=origin, gate=gate)
    path, secs = write(report, out, ctx.sha, plot)
    _summary(ctx, path, out)
    posted, dropped = _post(ctx, forge, secs, path, opts.title) if opts.post and forge else (None, [])
    return Outcome(
        results=results,
        base=base,
        base_origin=origin,
        report=path,
        json=out / RESULTS,
        gate=gate,
        metrics=head,
        posted=posted,
        dropped=tuple(dropped),
    )


def measure(
    opts: Options,
    env: Mapping[str, str],
    *,
    access: Access | None = None,
    cwd: Path | None = None,
    layers: Parts | None = None,
) -> Outcome:
    """:func:`bench` with the CI context, forge and token resolved from ``env`` (:mod:`cml.session`).

    Outside a git repository (no commit) it runs ad hoc: nothing to compare with but ``baseline``,
    nowhere to post (ConfigError when ``post`` is asked). The forge is opened to post, and on the
    local forge to read the base's stored run.
    """
    from cml import session

    access = access or session.Access()
    cwd = cwd or Path.cwd()
    try:
        ctx = session.context(env, access, cwd)
    except ConfigError:
        if opts.post:
            raise
        ctx = outside_git(cwd)  # an ad-hoc run in a plain folder: nothing to compare or post
    in_git = bool(ctx.sha)
    opened = session.open_forge(env, access, ctx) if in_git and (opts.post or ctx.forge == "local") else None
    token = "" if opts.baseline or not in_git else session.token(ctx, env, access, required=False)
    forge = opened.forge if opened else None
    return bench(opts, ctx=ctx, forge=forge, cwd=cwd, token=token, layers=layers)


def outside_git(cwd: Path) -> CIContext:
    """The context of a run in a folder outside any git repository: no commit, so no stored baseline
    and nowhere to post (``--baseline FILE`` still compares)."""
    return CIContext(provider="local", forge="local", repo=cwd.name, sha="", workdir=cwd)


def expected(opts: Options, targets: Sequence[Target]) -> list[str]:
    """The metric names a run of ``opts`` can produce (to check ``--fail-on`` names before running)."""
    lat = Latency(median=1, p90=1, p99=1, min=1, std=0, cv=0, runs=1, init_ms=1, first_ms=1, peak_rss_kb=1)
    with_labels = opts.eval_data is not None
    acc = Accuracy(accuracy=1, drop=0) if with_labels else Accuracy(agreement=1, max_abs_diff=0)
    latency = {t.info.name: dict.fromkeys(opts.method.threads, lat) for t in targets}
    variants = tuple(
        VariantResult(variant=v, size_bytes=1, latency=latency, accuracy=acc) for v in opts.variants
    )
    fake = Results(model="", targets=tuple(t.info for t in targets), variants=variants, method=opts.method)
    return list(res.metrics(fake))


def _rows(
    names: Iterable[str], base: Results | None, head: dict[str, float] | None = None
) -> list[MetricRow]:
    """Metric rows for the gate: head's and base's values, plus every expected name head lacks (a
    variant that failed to convert): those rows have no head value, so their rules are "not checked"."""
    head = head or {}
    before = res.metrics(base) if base is not None else None
    names = list(names)
    lower, higher = res.directions([*names, *head, *(before or {})])
    rows = metric_rows(before, head, lower=lower, higher=higher)
    seen = {r.name for r in rows}
    return rows + [
        MetricRow(name=n, base=None, head=None, direction=direction(n, lower, higher))
        for n in names
        if n not in seen
    ]


def find_base(
    opts: Options, *, ctx: CIContext, forge: Forge | None, cwd: Path | None, token: str
) -> tuple[Results | None, str]:
    """The results to compare with and where they came from: ``--baseline FILE`` (InputError when it is
    unreadable), else the benchmark stored on the base commit's comments (the token's own only; a lookup
    that fails is a warning). Calls the forge's comment listing for the base commit."""
    if opts.baseline is not None:
        return res.load(opts.baseline), f"`{render.cell(str(opts.baseline))}`"
    if forge is None or cwd is None:
        return None, ""
    from cml import git
    from cml.report import baseline

    try:
        root = git.toplevel(cwd)
        sha, how = baseline.resolve(root, ctx, None, token)
        stored = baseline.stored(forge, sha, opts.title, kind="bench") if sha else None
    except CmlError as exc:
        logger.warning("no base benchmark: %s", exc)
        return None, ""
    found = res.from_block(stored.bench if stored else None, sha or "")
    if found is None or sha is None:
        return None, ""
    return found, f"`{sha[:7]}`, {how} (the benchmark stored on that commit)"


def _accuracy(
    opts: Options, models: dict[Variant, Path], layers: Parts, converted: Path
) -> dict[Variant, Accuracy]:
    """Accuracy of each model against ``--eval`` labels, or agreement with the original on
    ``--representative`` data; nothing without either. The original's outputs are those conversion
    saved in ``converted`` (no second TensorFlow start); the model itself when there are none."""
    if opts.eval_data is None and opts.representative is None:
        return {}
    original = None if opts.model.suffix.lower() == ".tflite" else opts.model
    if original is not None and (converted / ORIGINAL_OUTPUTS).is_file():
        original = converted / ORIGINAL_OUTPUTS
    logger.info("cml bench: accuracy of %s", ", ".join(models))
    return layers.evaluate(
        models,
        original,
        eval_data=opts.eval_data,
        representative=opts.representative,
        log=opts.output / ACCURACY_LOG,
    )


def _time(
    targets: Sequence[Target], models: dict[Variant, Path], opts: Options
) -> list[dict[Variant, dict[int, Latency]]]:
    """Each target's timings, in order."""
    out = []
    for target in targets:
        logger.info("cml bench: timing %s on %s", ", ".join(models), target.info.name)
        out.append(target.time(models, opts.method, opts.representative))
    return out


def assemble(
    opts: Options,
    sha: str,
    converted: Sequence[Converted],
    accuracy: dict[Variant, Accuracy],
    targets: Sequence[Target],
    timed: Sequence[dict[Variant, dict[int, Latency]]],
) -> Results:
    """One Results from the parts' outputs (targets' info read after they ran: they fill it in)."""
    infos = tuple(t.info for t in targets)
    variants = []
    for c in converted:
        latency = {info.name: by[c.variant] for info, by in zip(infos, timed, strict=True) if c.variant in by}
        notes = tuple(n for n in (c.note,) if n)
        if c.path is not None and not latency:
            notes += ("not timed",)
        variants.append(
            VariantResult(
                variant=c.variant,
                size_bytes=c.size_bytes,
                latency=latency,
                accuracy=accuracy.get(c.variant),
                error=c.error,
                notes=notes,
            )
        )
    return Results(
        model=str(opts.model), commit=sha, targets=infos, variants=tuple(variants), method=opts.method
    )


def write(
    report: render.BenchReport, out: Path, sha: str, plot: tuple[str, list[str]] | None = None
) -> tuple[Path, list[Section]]:
    """Write ``results.json``, the latency plot (a note instead when it cannot be rendered; ``plot``:
    one :func:`_plot` already drew) and ``report.md`` with its data block into ``out``; return the
    report's path and sections."""
    from cml.report.snapshot import Snapshot, encode_block

    res.save(report.results, out / RESULTS)
    image, notes = plot if plot is not None else _plot(report.results, report.base, out)
    block = encode_block(
        Snapshot(metrics=res.metrics(report.results), bench=res.to_json(report.results)), sha
    )
    report = replace(report, image=image, notes=[*report.notes, *notes], data_block=block)
    secs = render.sections(report)
    path = out / REPORT
    from cml.report.budget import join

    path.write_text(join(secs), encoding="utf-8")
    return path, secs


def _plot(results: Results, base: Results | None, out: Path) -> tuple[str, list[str]]:
    """Render the latency figure of ``results`` (against ``base``) into ``out``: its file name, or a
    note saying why there is none."""
    try:
        fig = render.figure(results, base)
        if fig is None:
            return "", []
        from cml.report.figures import plots_module

        out.mkdir(parents=True, exist_ok=True)
        (path,) = plots_module().render([fig], out)
    except CmlError as exc:  # no Chromium, no renderer: keep the tables
        logger.warning("plot not rendered: %s", exc)
        return "", [f"Plot not rendered: {exc.message}"]
    return path.name, []


def _summary(ctx: CIContext, path: Path, out: Path) -> None:
    """Append the report to the CI job summary (images become pointers into the output folder)."""
    from cml import ci
    from cml.report.pipeline import for_summary

    ci.append_summary(ctx, for_summary(path.read_text(encoding="utf-8"), str(out)))


def _post(
    ctx: CIContext, forge: Forge, secs: list[Section], path: Path, title: str
) -> tuple[Posted, list[str]]:
    """Upload the plot, fit the sections to the forge's limit, update the sticky comment titled
    ``title`` on this PR/MR (else the commit): :func:`cml.report.post.post_sections`."""
    from cml.report.post import post_sections

    return post_sections(ctx, forge, secs, path, title)


def summary(done: Outcome) -> dict[str, Any]:
    """The machine summary ``--json`` prints."""
    posted = done.posted
    return {
        "report": str(done.report),
        "results": str(done.json),
        "gate": done.gate.conclusion,
        "failed": [c.rule.text for c in done.gate.failed],
        "warned": [c.rule.text for c in done.gate.warned],
        "baseline": done.base_origin or None,
        "targets": [t.name for t in done.results.targets],
        "metrics": done.metrics,
        "errors": {v.variant: v.error for v in done.results.variants if v.error},
        "posted": None if posted is None else {"action": posted.action, "url": posted.url, "id": posted.id},
        "dropped": list(done.dropped),
    }
