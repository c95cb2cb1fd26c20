"""Which way is better for a metric: the one home of the known names and of the user's overrides.

A metric name is split into tokens: the part after the last ``:`` (the ``file:`` prefix is not part
of the name), cut at every character that is not a letter or digit (``_ - . / space``) and at
lower→upper case changes (``valLoss`` → ``val``, ``loss``), lowercased. A token is known when it,
or it without trailing digits (``rouge1`` → ``rouge``, ``map50`` → ``map``), is in :data:`LOWER` or
:data:`HIGHER`. A name whose known tokens are all lower-is-better is ``lower`` (``val_loss``,
``train/loss``, ``eval.mae``); all higher-is-better is ``higher`` (``val_acc``, ``roc_auc``); none,
or both kinds (``time_to_accuracy``), is unknown: shown without a colour, never guessed.

Overrides, strongest first: ``--lower-is-better`` / ``--higher-is-better`` (full or bare name),
then ``[tool.cml] lower-is-better = [...]`` / ``higher-is-better = [...]`` in the project's
``pyproject.toml``, then the lists here.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cml.errors import InputError, UsageError

Direction = Literal["higher", "lower"]

#: Names (tokens) of metrics that are better when lower.
LOWER = frozenset(
    [
        "loss",
        "losses",
        "logloss",
        "error",
        "errors",
        "err",
        "mae",
        "mse",
        "rmse",
        "rmsle",
        "msle",
        "mape",
        "smape",
        "wer",
        "cer",
        "ter",
        "fpr",
        "fnr",
        "eer",
        "nll",
        "perplexity",
        "ppl",
        "fid",
        "kid",
        "lpips",
        "brier",
        "hamming",
        "latency",
        "duration",
        "time",
        "runtime",
        "seconds",
        "secs",
        "ms",
        "memory",
        "mem",
        "size",
        "bytes",
    ]
)
#: Names (tokens) of metrics that are better when higher.
HIGHER = frozenset(
    [
        "accuracy",
        "acc",
        "precision",
        "recall",
        "f1",
        "fbeta",
        "auc",
        "auroc",
        "ap",
        "map",
        "iou",
        "miou",
        "dice",
        "r2",
        "bleu",
        "rouge",
        "meteor",
        "chrf",
        "ssim",
        "psnr",
        "specificity",
        "sensitivity",
        "tpr",
        "tnr",
        "mcc",
        "kappa",
        "ndcg",
        "mrr",
        "hits",
        "throughput",
    ]
)

_CUT = re.compile(r"[^0-9a-zA-Z]+|(?<=[a-z])(?=[A-Z])")


def tokens(name: str) -> list[str]:
    """The lowercased tokens of metric ``name`` (its part after the last ``:``), as described above."""
    return [t.lower() for t in _CUT.split(name.rsplit(":", 1)[-1]) if t]


def known(name: str) -> Direction | None:
    """The direction the lists give ``name``; None when no token is known or tokens disagree."""
    found: set[Direction] = set()
    for token in tokens(name):
        for word in dict.fromkeys((token, token.rstrip("0123456789"))):
            if word in LOWER:
                found.add("lower")
            elif word in HIGHER:
                found.add("higher")
    return found.pop() if len(found) == 1 else None


def direction(
    name: str, lower: frozenset[str] = frozenset(), higher: frozenset[str] = frozenset()
) -> Direction | None:
    """Which way is better for ``name``: an override (full or bare name), else :func:`known`."""
    bare = name.rsplit(":", 1)[-1]
    if name in lower or bare in lower:
        return "lower"
    if name in higher or bare in higher:
        return "higher"
    return known(name)


@dataclass(frozen=True, kw_only=True)
class Overrides:
    """Names the user says are better lower / higher (disjoint)."""

    lower: frozenset[str] = frozenset()
    higher: frozenset[str] = frozenset()


def from_flags(lower: list[str], higher: list[str]) -> Overrides:
    """The flags' overrides; UsageError when a name is given both ways."""
    both = sorted(set(lower) & set(higher))
    if both:
        raise UsageError(f"--lower-is-better and --higher-is-better both name {both[0]!r}; give one")
    return Overrides(lower=frozenset(lower), higher=frozenset(higher))


def from_pyproject(root: Path) -> Overrides:
    """``[tool.cml]`` ``lower-is-better`` / ``higher-is-better`` in ``root/pyproject.toml`` (none when
    the file or table is absent); InputError naming the file and key when they are malformed."""
    from cml import files

    path = root / "pyproject.toml"
    if not path.is_file():
        return Overrides()
    try:
        doc = tomllib.loads(files.read_data(path, "pyproject.toml", files.Tree(root=root)))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"pyproject.toml: not valid TOML ({exc})") from None
    table = doc.get("tool", {}).get("cml", {}) if isinstance(doc.get("tool"), dict) else {}
    if not isinstance(table, dict):
        raise InputError("pyproject.toml: [tool.cml] must be a table")
    lower, higher = _names(table, "lower-is-better"), _names(table, "higher-is-better")
    both = sorted(lower & higher)
    if both:
        raise InputError(f"pyproject.toml: [tool.cml] names {both[0]!r} both lower- and higher-is-better")
    return Overrides(lower=lower, higher=higher)


def _names(table: dict[str, object], key: str) -> frozenset[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"pyproject.toml: [tool.cml] {key} must be a list of metric names")
    return frozenset(value)


def merge(flags: Overrides, project: Overrides) -> Overrides:
    """``flags`` over ``project``: a name the flags set one way is dropped from the project's other way."""
    return Overrides(
        lower=flags.lower | (project.lower - flags.higher),
        higher=flags.higher | (project.higher - flags.lower),
    )
