from __future__ import annotations

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
        ('{"acc": "high"}', "m.json", "m.json: metric 'acc': not a number ('high')"),
        ('{"acc": true}', "m.json", "m.json: metric 'acc': not a number ('True')"),
        ('{"acc": NaN}', "m.json", "m.json: metric 'acc': not a finite number (nan)"),
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


def test_huge_integer_is_refused_not_crashed() -> None:
    with pytest.raises(InputError, match="not a finite number"):
        read_metrics('{"n": ' + "9" * 400 + "}", "m.json")


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
