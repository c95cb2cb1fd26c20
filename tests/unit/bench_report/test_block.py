"""The comment's hidden data block holds bench results too (one format, cml/report/snapshot.py), and a
report never takes a bench block as its baseline, nor a bench run a report's."""

from __future__ import annotations

from pathlib import Path

from cml.bench import results as res
from cml.comment import marker
from cml.forges import Target
from cml.forges.local import LocalForge
from cml.report import baseline
from cml.report.snapshot import Snapshot, decode_block, encode_block
from tests.conftest import git
from tests.unit.bench_report.samples import results

SHA = "c" * 40


def _bench_block() -> str:
    r = results()
    return encode_block(Snapshot(metrics=res.metrics(r), bench=res.to_json(r)), SHA)


def test_a_report_block_is_unchanged_and_has_no_bench() -> None:
    block = encode_block(Snapshot(metrics={"acc": 0.9}, params={"lr": 0.1}), SHA)
    sha, snap = decode_block(block) or ("", None)
    assert sha == SHA
    assert snap is not None
    assert snap.bench is None
    assert snap.origin == "stored report on ccccccc"
    assert decode_block(block, "bench") is None


def test_a_bench_block_round_trips_its_results() -> None:
    block = _bench_block()
    assert decode_block(block) is None  # a report does not read it
    sha, snap = decode_block(block, "bench") or ("", None)
    assert snap is not None
    assert snap.origin == "stored benchmark on ccccccc"
    assert snap.metrics["int8.p50"] == 4.9
    assert res.from_block(snap.bench, sha) == results()


def test_the_last_block_of_the_kind_wins() -> None:
    report = encode_block(Snapshot(metrics={"acc": 0.9}), "d" * 40)
    text = f"{_bench_block()}\n{report}\n<!-- cml:data v1 AAAA -->"
    assert (decode_block(text) or ("", None))[0] == "d" * 40
    assert (decode_block(text, "bench") or ("", None))[0] == SHA


def test_stored_finds_our_bench_block_beside_a_training_report(repo: Path) -> None:
    forge = LocalForge(repo, "Ada")
    sha = git(repo, "rev-parse", "HEAD")
    where = Target(kind="commit", ref=sha)
    training = encode_block(Snapshot(metrics={"acc": 0.9}), sha)
    forge.create_comment(where, f"{marker('Mobile benchmark', '01')}\n{_bench_block()}\n## Mobile benchmark")
    forge.create_comment(where, f"{marker('CML report', '02')}\n{training}\n## CML report")
    bench = baseline.stored(forge, sha, "Mobile benchmark", kind="bench")
    assert bench is not None
    assert bench.bench is not None
    assert bench.metrics["fp32.size"] == 13_900_000
    report = baseline.stored(forge, sha, "CML report")
    assert report is not None
    assert report.bench is None
    assert report.metrics == {"acc": 0.9}


def test_stored_ignores_a_bench_block_posted_by_someone_else(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    where = Target(kind="commit", ref=sha)
    LocalForge(repo, "Mallory").create_comment(where, f"{marker('Mobile benchmark', '01')}\n{_bench_block()}")
    assert baseline.stored(LocalForge(repo, "Ada"), sha, "Mobile benchmark", kind="bench") is None
