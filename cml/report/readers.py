"""Parse metrics, params and plot data from JSON, YAML, TOML and CSV/TSV text.

Every reader takes the text and the name it came from (a path, or ``REV:path``) so the same code
reads the work tree and ``git show``. Malformed input raises :class:`InputError` naming the origin
and, where the parser knows it, the line.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tomllib
from collections.abc import Mapping
from typing import Any

import yaml

from cml.errors import InputError

Scalar = float | str | bool | list[Any] | None
#: A metric value: a number (NaN and infinities kept as such), or text / a boolean shown as text.
Metric = float | str | bool
Record = dict[str, Any]

#: How many nodes YAML aliases may add to a document: anchors shared a few times (DVC params reuse a
#: block of defaults) stay far below; an alias bomb (9 levels of 9 aliases: 435 million nodes) is
#: refused after composing about 5,000 of them, before anything is built or walked.
MAX_ALIAS_NODES = 100_000
#: libyaml when PyYAML has it (3x faster, caps nesting at 1,000 levels), else the pure-Python loader.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Refused(Exception):
    """A document that parses but would expand beyond what cml builds."""


def _load_yaml(text: str) -> Any:
    """``yaml.safe_load`` with alias expansion bounded: compose the node graph, count the nodes the
    aliases add (each node once, shared nodes by their expanded size), and only then construct."""
    loader = _YAML_LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded_size(root: yaml.Node) -> int:
    """Nodes in ``root`` with every alias expanded; _Refused when aliases add over MAX_ALIAS_NODES or
    a node contains itself (a recursive anchor). Iterative and linear in the distinct nodes."""
    sizes: dict[int, int] = {}
    distinct = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] - distinct > MAX_ALIAS_NODES:
                raise _Refused(f"YAML aliases expand to over {MAX_ALIAS_NODES:,} nodes (an alias bomb?)")
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise _Refused("a YAML anchor contains an alias to itself (a recursive structure)")
        open_nodes.add(key)
        distinct += 1
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _kind(origin: str) -> str:
    name = origin.lower().rsplit("/", 1)[-1]
    for ext, kind in ((".json", "json"), (".yaml", "yaml"), (".yml", "yaml"), (".toml", "toml")):
        if name.endswith(ext):
            return kind
    if name.endswith(".tsv"):
        return "tsv"
    if name.endswith(".csv"):
        return "csv"
    raise InputError(f"{origin}: unknown format, expected .json, .yaml, .yml, .toml, .csv or .tsv")


def _table(text: str, origin: str, delimiter: str) -> list[Record]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(f"{origin}: line {reader.line_num}: {exc}") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise InputError(f"{origin}: empty, expected a header row")
    header = [cell.strip() for cell in rows[0]]
    if len(set(header)) != len(header) or not all(header):
        raise InputError(f"{origin}: line 1: header has empty or repeated column names")
    out: list[Record] = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InputError(f"{origin}: line {number}: {len(row)} fields, the header has {len(header)}")
        out.append({key: cell(value.strip()) for key, value in zip(header, row, strict=True)})
    return out


def cell(text: str) -> Any:
    """A CSV/TSV cell as an int or a float when it reads as one, else the text itself."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def parse(text: str, origin: str) -> Any:
    """Decode ``text`` by the extension of ``origin``; CSV/TSV become a list of records."""
    kind = _kind(origin)
    if kind in ("csv", "tsv"):
        return _table(text, origin, "\t" if kind == "tsv" else ",")
    try:
        if kind == "json":
            return json.loads(text)
        if kind == "toml":
            return tomllib.loads(text)
        return _load_yaml(text)
    except _Refused as exc:
        raise InputError(f"{origin}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{origin}: line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{origin}: invalid TOML: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "cannot parse"
        raise InputError(f"{origin}: {where}invalid YAML: {problem}") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{origin}: cannot parse: {exc}") from None


def flatten(data: Any, prefix: str = "", *, lists: bool = True) -> dict[str, Any]:
    """Nested mappings (and lists, unless ``lists`` is False) to ``{"a.b.0": value}``; scalars keep
    their type. With ``lists=False`` a list is one value, as ``dvc params diff`` shows it."""
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key), lists=lists))
        return out
    if isinstance(data, list) and (lists or not prefix):
        out = {}
        for i, value in enumerate(data):
            out.update(flatten(value, f"{prefix}.{i}" if prefix else str(i), lists=lists))
        return out
    return {prefix or "value": data}


def _as_mapping(data: Any, origin: str) -> Mapping[str, Any]:
    if isinstance(data, list) and data and all(isinstance(r, Mapping) for r in data):
        last: Mapping[str, Any] = data[-1]
        return last  # a table: the last row (e.g. the final epoch of a log)
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InputError(f"{origin}: expected a mapping of names to values, got {type(data).__name__}")
    return data


def read_metrics(text: str, origin: str) -> dict[str, Metric]:
    """Flattened metrics: numbers as floats (NaN and infinities kept), strings and booleans kept as
    they are (shown as text); nulls are skipped. Only a file that does not parse is an InputError."""
    out: dict[str, Metric] = {}
    for key, value in _flat(parse(text, origin), origin).items():
        if value is None:
            continue
        out[key] = metric_value(value)
    return out


def metric_value(value: Any) -> Metric:
    """A metric as a float (an integer too large for one becomes infinity), or text / a boolean."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return str(value)


def numeric(value: Any) -> float | None:
    """``value`` as a float when it is a number (NaN and infinities included), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return metric_value(value)  # type: ignore[return-value]


def to_float(value: Any) -> float | None:
    """``value`` as a finite float, or None (strings, booleans, NaN, infinities, huge integers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _flat(data: Any, origin: str, *, lists: bool = True) -> dict[str, Any]:
    try:
        return flatten(_as_mapping(data, origin), lists=lists)
    except RecursionError:
        raise InputError(f"{origin}: nested too deeply") from None


def read_params(text: str, origin: str) -> dict[str, Scalar]:
    """Flattened params, values kept as they are (numbers, strings, booleans, null); a list is one
    value (``[64, 32]``), as ``dvc params diff`` shows it."""
    flat = _flat(parse(text, origin), origin, lists=False)
    return {
        key: value if isinstance(value, int | float | str | bool | list) or value is None else str(value)
        for key, value in flat.items()
    }


def read_records(text: str, origin: str) -> list[Record]:
    """Plot data: a list of records, ``{"key": [records]}``, or a CSV/TSV table."""
    return records(parse(text, origin), origin)


def records(data: Any, origin: str) -> list[Record]:
    """Parsed plot data as a list of records: the list itself, or the one list a mapping holds;
    InputError naming ``origin`` for anything else."""
    if isinstance(data, Mapping):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise InputError(f"{origin}: expected a list of records or one key holding a list of records")
        data = lists[0]
    if not isinstance(data, list) or not data:
        raise InputError(f"{origin}: expected a non-empty list of records")
    for i, row in enumerate(data):
        if not isinstance(row, Mapping):
            raise InputError(f"{origin}: record {i}: expected a mapping, got {type(row).__name__}")
    return [dict(row) for row in data]
