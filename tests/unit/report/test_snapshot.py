from __future__ import annotations

from pathlib import Path

import pytest

from cml.errors import InputError
from cml.report.snapshot import Snapshot, decode_block, encode_block, read_snapshot, work_tree
from cml.report.sources import Sources


def test_block_round_trip_and_newest_wins() -> None:
    one = Snapshot(metrics={"acc": 0.5}, params={"lr": 0.1, "opt": "sgd", "flag": None})
    two = Snapshot(metrics={"acc": 0.75}, params={})
    text = f"{encode_block(one, 'a' * 40)}\nsome report\n{encode_block(two, 'b' * 40)}"
    sha, got = decode_block(text) or ("", Snapshot())
    assert sha == "b" * 40
    assert got.metrics == {"acc": 0.75}
    assert decode_block(encode_block(one, "c" * 40)) == (
        "c" * 40,
        Snapshot(metrics=one.metrics, params=one.params, origin="stored report on ccccccc"),
    )


def test_corrupt_blocks_are_ignored() -> None:
    good = encode_block(Snapshot(metrics={"acc": 1.0}), "d" * 40)
    assert decode_block("<!-- cml:data v1 AAAA -->") is None
    assert decode_block(f"{good}\n<!-- cml:data v1 bm90IHpsaWI= -->")[1].metrics == {"acc": 1.0}  # type: ignore[index]


def test_several_metric_files_are_prefixed(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"acc": 1}')
    (tmp_path / "b.yaml").write_text("acc: 2\n")
    src = Sources(metrics=("a.json", "b.yaml"))
    assert read_snapshot(src, work_tree(tmp_path), "work tree").metrics == {
        "a.json:acc": 1.0,
        "b.yaml:acc": 2.0,
    }


def test_missing_head_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^m.json: no such file"):
        read_snapshot(Sources(metrics=("m.json",)), work_tree(tmp_path), "work tree")


def test_base_errors_name_revision_and_path() -> None:
    with pytest.raises(InputError, match=r"^abc1234:m.json: line 1"):
        read_snapshot(Sources(metrics=("m.json",)), lambda _: "{", "git abc1234")


def test_baseline_text_over_the_cap_or_not_utf8_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from cml import files

    monkeypatch.setattr(files, "DATA_CAP", 10)
    with pytest.raises(InputError, match=r"^abc1234:m\.json: 11 bytes, over cml's limit"):
        read_snapshot(Sources(metrics=("m.json",)), lambda _: '{"a": 1.25}', "git abc1234")

    def undecodable(_: str) -> str:
        return b"acc: \xff".decode()  # what git show's output does in text mode

    with pytest.raises(InputError, match=r"^abc1234:m\.yaml: not UTF-8 text \(byte 5\)$"):
        read_snapshot(Sources(metrics=("m.yaml",)), undecodable, "git abc1234")
