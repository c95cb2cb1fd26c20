"""``cml bench MODEL``: TFLite variants of a model, timed on targets, against the base branch's run.

Writes ``OUTPUT/report.md``, ``OUTPUT/results.json``, the latency plot and the converted models; with
``--post`` keeps the table as its own sticky comment ("Mobile benchmark"); ``--fail-on`` raises
GateFailed (exit 8) after everything is written and posted. The work is :func:`cml.bench.run.bench`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from cml.bench import VARIANTS, Variant
from cml.cli import Outcome, Subparsers, _forge
from cml.errors import GateFailed, UsageError

if TYPE_CHECKING:
    from cml.bench.run import Options


def register(sub: Subparsers) -> None:
    """Add ``bench``."""
    p = sub.add_parser(
        "bench",
        help="convert a model to TFLite variants, time them on targets, report size/latency/accuracy",
        description="MODEL: a Keras model (.keras, .h5), a SavedModel folder or a .tflite file.",
    )
    add = p.add_argument
    add(
        "model",
        type=Path,
        metavar="MODEL",
        help="a Keras model (.keras, .h5), a SavedModel folder or a .tflite file",
    )
    add(
        "--variants",
        default=",".join(VARIANTS),
        help="comma-separated, from fp32,dynamic,fp16,int8 (default: all)",
    )
    add(
        "--representative",
        type=Path,
        metavar="FILE.npy",
        help="int8 calibration inputs (default: drawn from --eval)",
    )
    add(
        "--eval",
        type=Path,
        dest="eval_data",
        metavar="FILE.npz",
        help="arrays x and y: accuracy and its drop",
    )
    add(
        "--target",
        action="append",
        default=[],
        metavar="SPEC",
        help="local | ssh://user@host[:port] | adb://SERIAL (repeatable; default: local)",
    )
    add("--threads", default="1", metavar="N[,N...]", help="interpreter thread counts (default: 1)")
    add("--warmup", type=int, default=10, metavar="N", help="warm-up runs (default: 10)")
    add(
        "--warmup-secs",
        type=float,
        default=1.0,
        metavar="S",
        help="and at least S seconds of warm-up (default: 1)",
    )
    add(
        "--runs",
        type=int,
        default=50,
        metavar="N",
        help="at least N timed runs per variant, over all repeats (default: 50)",
    )
    add("--min-secs", type=float, default=2.0, metavar="S", help="and at least S seconds (default: 2)")
    add("--repeats", type=int, default=3, metavar="R", help="rounds, variants shuffled in each (default: 3)")
    add("--output", type=Path, default=Path("cml-bench"), metavar="DIR", help="folder (default: cml-bench)")
    add(
        "--title",
        default="Mobile benchmark",
        help="report heading and sticky comment title (default: Mobile benchmark)",
    )
    add(
        "--fail-on",
        action="append",
        default=[],
        metavar="EXPR",
        help="e.g. 'int8.p50 > +10%%', 'int8.drop > 0.01'",
    )
    add("--warn-on", action="append", default=[], metavar="EXPR", help="like --fail-on, but only warns")
    add(
        "--baseline",
        type=Path,
        metavar="FILE.json",
        help="compare with this results.json (default: the base commit's stored run)",
    )
    add("--setup", action="store_true", help="ssh://: prepare a venv with ai-edge-litert on the device")
    add("--benchmark-binary", type=Path, metavar="FILE", help="adb://: the benchmark_model binary to push")
    add("--identity", type=Path, metavar="FILE", help="ssh://: private key file")
    add(
        "--known-hosts",
        type=Path,
        metavar="FILE",
        help="ssh://: known_hosts file (default: ~/.ssh/known_hosts)",
    )
    add("--accept-new", action="store_true", help="ssh://: pin a host key seen for the first time")
    add("--json", action="store_true", help="print a machine summary as JSON")
    add("--post", action="store_true", help="update the sticky comment on this PR/MR (else the commit)")
    _forge.add_forge_options(p)
    p.set_defaults(handler=handle)


def _variants(text: str) -> tuple[Variant, ...]:
    """``fp32,int8`` as variants, in the order given, once each; UsageError naming the list otherwise."""
    known: dict[str, Variant] = {v: v for v in VARIANTS}
    names = tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
    if not names or any(v not in known for v in names):
        raise UsageError(f"--variants {text!r}: expected names from {','.join(VARIANTS)}")
    return tuple(known[v] for v in names)


def _threads(text: str) -> tuple[int, ...]:
    """``1,4`` as thread counts (1 to 256, once each); UsageError otherwise."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() and 0 < int(p) <= 256 for p in parts):
        raise UsageError(f"--threads {text!r}: expected thread counts like 1,4")
    return tuple(dict.fromkeys(int(p) for p in parts))


def options(args: argparse.Namespace) -> Options:
    """Turn flags into :class:`cml.bench.run.Options`; UsageError for a bad list, count or rule."""
    from cml.bench import Method
    from cml.bench.run import Options, TargetOptions
    from cml.report.gate import parse_rule

    for flag in ("warmup", "runs", "repeats"):
        if getattr(args, flag) < (0 if flag == "warmup" else 1):
            raise UsageError(f"--{flag} {getattr(args, flag)}: too small")
    for flag in ("warmup_secs", "min_secs"):
        if not 0 <= getattr(args, flag) <= 3600:
            raise UsageError(f"--{flag.replace('_', '-')} {getattr(args, flag)}: expected 0 to 3600 seconds")
    method = Method(
        warmup=args.warmup, warmup_secs=args.warmup_secs, runs=args.runs, min_secs=args.min_secs,
        repeats=args.repeats, threads=_threads(args.threads),
    )  # fmt: skip
    rules = [parse_rule(e, "fail") for e in args.fail_on] + [parse_rule(e, "warn") for e in args.warn_on]
    hosts = TargetOptions(
        setup=args.setup, benchmark_binary=args.benchmark_binary, identity=args.identity,
        known_hosts=args.known_hosts, accept_new=args.accept_new,
    )  # fmt: skip
    return Options(
        model=args.model, variants=_variants(args.variants), representative=args.representative,
        eval_data=args.eval_data, targets=tuple(args.target or ["local"]), target_options=hosts,
        method=method, output=args.output, title=args.title, rules=tuple(rules), baseline=args.baseline,
        post=args.post,
    )  # fmt: skip


def handle(args: argparse.Namespace, env: Mapping[str, str]) -> Outcome:
    """Benchmark, write, post (:func:`cml.bench.run.measure`); print the report path (or --json); a
    failed gate exits 8 after that."""
    from cml.bench import run

    done = run.measure(options(args), env, access=_forge.access(args), cwd=Path.cwd())
    if args.json:
        print(json.dumps(run.summary(done)))
    else:
        print(done.report)
        if done.posted is not None:
            print(done.posted.url)
    failed = done.gate.failed
    error = GateFailed("gate failed: " + "; ".join(c.rule.text for c in failed)) if failed else None
    return Outcome(code=0, result=done, error=error)
