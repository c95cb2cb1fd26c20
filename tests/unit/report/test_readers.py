from __future__ import annotations

import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cml.errors import InputError
from cml.report.readers import flatten, parse, read_metrics, read_params, read_records


def test_json_yaml_toml_flatten_to_the_same_dotted_names() -> None:
    want = {"acc": 0.9, "eval.loss": 0.25, "eval.per_class.0": 1.0}
    assert read_metrics('{"acc": 0.9, "eval": {"loss": 0.25, "per_class": [1]}}', "m.json") == want
    assert read_metrics("acc: 0.9\neval:\n  loss: 0.25\n  per_class: [1]\n", "m.yaml") == want
    assert read_metrics("acc = 0.9\n[eval]\nloss = 0.25\nper_class = [1]\n", "m.toml") == want


def test_csv_and_tsv_take_the_last_row() -> None:
    assert read_metrics("epoch,acc\n1,0.5\n2,0.75\n", "log.csv") == {"epoch": 2.0, "acc": 0.75}
    assert read_metrics("acc\tloss\n0.5\t1e-3\n", "m.tsv") == {"acc": 0.5, "loss": 0.001}


def test_params_keep_strings_booleans_and_null() -> None:
    got = read_params("opt: adam\nuse_gpu: true\nseed: null\nlr: 0.1\n", "params.yml")
    assert got == {"opt": "adam", "use_gpu": True, "seed": None, "lr": 0.1}


def test_null_metric_is_skipped() -> None:
    assert read_metrics('{"acc": null, "f1": 1}', "m.json") == {"f1": 1.0}


def test_flatten_scalar_and_empty() -> None:
    assert flatten(3) == {"value": 3}
    assert flatten({}) == {}


@pytest.mark.parametrize(
    ("text", "origin", "message"),
    [
        ('{"acc": 0.9,\n "loss": }', "m.json", "m.json: line 2 column 10: invalid JSON"),
        ("acc: 1\n- 2\n", "m.yaml", "m.yaml: line 2 column 1: invalid YAML"),
        ("acc = ", "m.toml", "m.toml: invalid TOML"),
        ("a,b\n1,2\n3\n", "m.csv", "m.csv: line 3: 1 fields, the header has 2"),
        ("a,a\n1,2\n", "m.csv", "m.csv: line 1: header has empty or repeated column names"),
        ("[1, 2]", "m.json", "m.json: expected a mapping of names to values, got list"),
        ("{}", "m.txt", "m.txt: unknown format"),
        ("", "m.csv", "m.csv: empty, expected a header row"),
    ],
)
def test_bad_input_names_file_and_place(text: str, origin: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        read_metrics(text, origin)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_records_from_list_key_and_csv() -> None:
    rows = [{"x": 1, "y": 2.5}]
    assert read_records('[{"x": 1, "y": 2.5}]', "p.json") == rows
    assert read_records('{"train": [{"x": 1, "y": 2.5}]}', "p.json") == rows
    assert read_records("x,y\n1,2.5\n", "p.csv") == rows


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"x": 1}', "p.json: expected a list of records or one key holding a list of records"),
        ("[]", "p.json: expected a non-empty list of records"),
        ("[1, 2]", "p.json: record 0: expected a mapping, got int"),
    ],
)
def test_bad_records(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        read_records(text, "p.json")


def test_huge_integer_is_infinity_not_a_crash() -> None:
    assert read_metrics('{"n": ' + "9" * 400 + ', "m": 1e999999}', "m.json") == {"n": math.inf, "m": math.inf}


def test_deep_nesting_is_a_clean_error() -> None:
    with pytest.raises(InputError, match=r"^m\.json: "):
        read_metrics("[" * 100_000 + "]" * 100_000, "m.json")


_EXTS = ["m.json", "m.yaml", "m.toml", "m.csv", "m.tsv"]
_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet='{}[]:,"\n\t -=#.0123456789abcenull', max_size=120),
)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, origin=st.sampled_from(_EXTS))
def test_fuzz_readers_raise_only_input_errors(text: str, origin: str) -> None:
    for reader in (read_metrics, read_params, read_records):
        message = ""
        try:
            reader(text, origin)
        except InputError as exc:
            message = str(exc)
        assert not message or (message.startswith(origin) and "\n" not in message)


def test_parse_yaml_anchors_are_plain_data() -> None:
    assert parse("a: &x 1\nb: *x\n", "p.yaml") == {"a": 1, "b": 1}


# ---- hostile text: alias bombs, deep nesting, huge numbers ---------------------------------------


def _alias_bomb(levels: int, fan: int) -> str:
    lines = [f"a0: &a0 [{', '.join(['lol'] * fan)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("levels", "fan"), [(9, 9), (30, 2), (4, 400)])
def test_yaml_alias_bombs_are_refused_fast(levels: int, fan: int) -> None:
    start = time.monotonic()
    with pytest.raises(InputError) as err:
        read_params(_alias_bomb(levels, fan), "params.yaml")
    seconds = time.monotonic() - start
    print(f"{levels} levels of {fan} aliases refused in {seconds:.3f} s")
    assert str(err.value) == "params.yaml: YAML aliases expand to over 100,000 nodes (an alias bomb?)"
    assert seconds < 2


def test_yaml_anchors_reused_within_the_bound_are_read() -> None:
    text = "base: &b {lr: 0.1, depth: 3}\n" + "".join(f"s{i}: *b\n" for i in range(100))
    got = read_params(text, "params.yaml")
    assert len(got) == 202
    assert got["s99.lr"] == 0.1


@pytest.mark.parametrize("text", ["a: &x [1, *x]\n", "a: &x {b: {c: *x}}\n", "&x [*x]\n"])
def test_recursive_yaml_anchors_are_refused(text: str) -> None:
    with pytest.raises(InputError, match=r"^p\.yaml: a YAML anchor contains an alias to itself"):
        read_params(text, "p.yaml")


@pytest.mark.parametrize(
    ("text", "origin", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "m.yaml", "m.yaml: "),
        ("a:\n" + "".join(" " * i + "b:\n" for i in range(1, 5000)), "m.yaml", "m.yaml: "),
        ('{"a":' * 50_000 + "1" + "}" * 50_000, "m.json", "m.json: "),
        ("a = " + "[" * 50_000 + "]" * 50_000, "m.toml", "m.toml: "),
        ('{"n": ' + "9" * 100_000 + "}", "m.json", "m.json: cannot parse: Exceeds the limit"),
        ("n: " + "9" * 100_000 + "\n", "m.yaml", "m.yaml: cannot parse: Exceeds the limit"),
    ],
)
def test_deep_nesting_and_huge_numbers_are_clean_errors(text: str, origin: str, message: str) -> None:
    start = time.monotonic()
    with pytest.raises(InputError) as err:
        read_metrics(text, origin)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)
    assert time.monotonic() - start < 5


@st.composite
def _aliased_yaml(draw: st.DrawFn) -> str:
    """A YAML document of anchors whose values alias earlier anchors, any number of times."""
    lines = [f"a0: &a0 {draw(st.sampled_from(['1', 'x', '[1, 2]', '{k: 0.5}', 'null']))}"]
    for i in range(1, draw(st.integers(1, 14))):
        refs = draw(st.lists(st.integers(0, i - 1), max_size=12))
        items = [f"*a{r}" for r in refs] + draw(st.lists(st.sampled_from(["1", "2.5", "s"]), max_size=2))
        body = (
            f"[{', '.join(items)}]"
            if draw(st.booleans())
            else "{" + ", ".join(f"k{n}: {item}" for n, item in enumerate(items)) + "}"
        )
        lines.append(f"a{i}: &a{i} {body}")
    tail = draw(st.sampled_from(["", "z: *a0\n", "r: &r [*r]\n", "u: *nope\n", "a0: &a0 2\n"]))
    return "\n".join(lines) + "\n" + tail


@st.composite
def _nested_json(draw: st.DrawFn) -> str:
    """Arrays and objects nested to any depth, sometimes unbalanced, around odd numbers."""
    depth = draw(st.integers(0, 3000))
    opens = draw(st.lists(st.sampled_from(["[", '{"k": ']), min_size=depth, max_size=depth))
    core = draw(st.sampled_from(["1", "1e999", "-1e-999", "9" * 5000, "NaN", "-Infinity", "0.5", '"x"', ""]))
    closes = "".join("]" if o == "[" else "}" for o in reversed(opens))
    cut = draw(st.integers(0, len(closes)))
    return '{"m": ' + "".join(opens) + core + closes[:cut] + "}"


@settings(max_examples=150, deadline=None)
@given(
    text=st.one_of(_aliased_yaml().map(lambda t: (t, "p.yaml")), _nested_json().map(lambda t: (t, "m.json")))
)
def test_fuzz_hostile_structures_raise_only_input_errors(text: tuple[str, str]) -> None:
    body, origin = text
    start = time.monotonic()
    for reader in (read_metrics, read_params, read_records):
        message, built = "", 0
        try:
            built = len(reader(body, origin))
        except InputError as exc:
            message = str(exc)
        assert not message or (message.startswith(f"{origin}: ") and "\n" not in message)
        assert built <= 200_000  # whatever was built is bounded
    assert time.monotonic() - start < 10
