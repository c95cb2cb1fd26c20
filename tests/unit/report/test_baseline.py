from __future__ import annotations

from pathlib import Path

import pytest

from cml.ci import CIContext
from cml.comment import marker
from cml.errors import UsageError
from cml.forges import Target
from cml.forges.local import LocalForge
from cml.report import baseline
from cml.report.snapshot import Snapshot, encode_block
from tests.conftest import git


def _ctx(root: Path, **kw: object) -> CIContext:
    return CIContext(
        provider="local", forge="local", repo="r", sha=git(root, "rev-parse", "HEAD"), workdir=root, **kw
    )  # type: ignore[arg-type]


def _commit(root: Path, name: str, text: str) -> str:
    (root / name).write_text(text)
    git(root, "add", name)
    git(root, "commit", "-q", "-m", f"{name}={text}")
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def branched(repo: Path) -> dict[str, str]:
    """main: init - base - main2; feature (checked out): base - head1 - head2."""
    shas = {"base": _commit(repo, "m.json", '{"acc": 1}')}
    git(repo, "checkout", "-q", "-b", "feature")
    shas["head1"] = _commit(repo, "m.json", '{"acc": 2}')
    shas["head2"] = _commit(repo, "m.json", '{"acc": 3}')
    git(repo, "checkout", "-q", "main")
    shas["main2"] = _commit(repo, "other.txt", "x")
    git(repo, "checkout", "-q", "feature")
    return shas


def test_local_branch_uses_merge_base_with_default_branch(repo: Path, branched: dict[str, str]) -> None:
    assert baseline.resolve(repo, _ctx(repo), None) == (branched["base"], "the merge-base with main")


def test_on_the_default_branch_the_previous_commit(repo: Path, branched: dict[str, str]) -> None:
    git(repo, "checkout", "-q", "main")
    assert baseline.resolve(repo, _ctx(repo), None) == (branched["base"], "the previous commit")


def test_a_single_commit_has_no_baseline(repo: Path) -> None:
    assert baseline.resolve(repo, _ctx(repo), None) == (None, "none")


def test_explicit_base(repo: Path, branched: dict[str, str]) -> None:
    assert baseline.resolve(repo, _ctx(repo), "feature~1") == (branched["head1"], "--base feature~1")
    with pytest.raises(UsageError, match="--base 'nope': no such commit"):
        baseline.resolve(repo, _ctx(repo), "nope")


def test_pr_base_sha_becomes_the_merge_base(repo: Path, branched: dict[str, str]) -> None:
    ctx = _ctx(repo, pr=7, base_ref="main", base_sha=branched["main2"])
    assert baseline.resolve(repo, ctx, None) == (branched["base"], "the merge-base with main")


def test_shallow_clone_fetches_only_the_base_commit(
    repo: Path, branched: dict[str, str], tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth=1", "--branch", "feature", f"file://{repo}", str(clone))
    assert baseline.commit(clone, branched["main2"]) is None
    ctx = _ctx(clone, pr=7, base_ref="main", base_sha=branched["main2"])
    found, how = baseline.resolve(clone, ctx, None)
    # the merge-base is beyond the shallow boundary: the fetched base commit itself is used
    assert (found, how) == (branched["main2"], "the tip of main (history too shallow for a merge-base)")
    assert found is not None
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    assert baseline.at_commit(clone, found)("m.json") == '{"acc": 1}'


def test_read_at_commit(repo: Path, branched: dict[str, str]) -> None:
    read = baseline.at_commit(repo, branched["head1"])
    assert read("m.json") == '{"acc": 2}'
    assert read("missing.json") is None


def test_stored_snapshot_is_the_newest_block_on_the_commit(repo: Path) -> None:
    forge = LocalForge(repo, "Ada")
    sha = git(repo, "rev-parse", "HEAD")
    target = Target(kind="commit", ref=sha)
    assert baseline.stored(forge, sha) is None
    forge.create_comment(target, encode_block(Snapshot(metrics={"acc": 0.5}), sha) + "\nold")
    forge.create_comment(target, "no block here")
    forge.create_comment(target, encode_block(Snapshot(metrics={"acc": 0.7}), sha) + "\nnew")
    got = baseline.stored(forge, sha)
    assert got is not None
    assert got.metrics == {"acc": 0.7}


def test_stored_snapshot_prefers_our_title(repo: Path) -> None:
    forge = LocalForge(repo, "Ada")
    sha = git(repo, "rev-parse", "HEAD")
    target = Target(kind="commit", ref=sha)
    forge.create_comment(
        target, marker("ours", "1" * 12) + "\n" + encode_block(Snapshot(metrics={"a": 1.0}), sha)
    )
    forge.create_comment(
        target, marker("other", "2" * 12) + "\n" + encode_block(Snapshot(metrics={"a": 2.0}), sha)
    )
    assert baseline.stored(forge, sha, "ours").metrics == {"a": 1.0}  # type: ignore[union-attr]
    assert baseline.stored(forge, sha, "third").metrics == {"a": 2.0}  # type: ignore[union-attr]


def test_stored_snapshot_reads_the_title_through_the_sticky_marker(repo: Path) -> None:
    """A title with quotes and ampersands (escaped in the marker) still picks its own report."""
    forge = LocalForge(repo, "Ada")
    sha = git(repo, "rev-parse", "HEAD")
    target = Target(kind="commit", ref=sha)
    odd = 'eval "fast" & <small>'
    forge.create_comment(
        target, marker(odd, "1" * 12) + "\n" + encode_block(Snapshot(metrics={"a": 1.0}), sha)
    )
    forge.create_comment(
        target, marker("eval", "2" * 12) + "\n" + encode_block(Snapshot(metrics={"a": 2.0}), sha)
    )
    assert baseline.stored(forge, sha, odd).metrics == {"a": 1.0}  # type: ignore[union-attr]
    assert baseline.stored(forge, sha, "eval").metrics == {"a": 2.0}  # type: ignore[union-attr]


def test_stored_snapshot_prefers_our_own_comments_over_anyone_elses(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    target = Target(kind="commit", ref=sha)
    ours, theirs = LocalForge(repo, "Ada"), LocalForge(repo, "Mallory")
    ours.create_comment(
        target, marker("r", "1" * 12) + "\n" + encode_block(Snapshot(metrics={"a": 1.0}), sha)
    )
    forged = marker("r", "2" * 12) + "\n" + encode_block(Snapshot(metrics={"a": 9.0}), sha)
    theirs.create_comment(target, forged)  # newer, same title
    assert baseline.stored(ours, sha, "r").metrics == {"a": 1.0}  # type: ignore[union-attr]
    assert baseline.stored(theirs, sha, "r").metrics == {"a": 9.0}  # type: ignore[union-attr]


def test_shallow_push_build_deepens_by_one_commit(
    repo: Path, branched: dict[str, str], tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth=1", "--branch", "main", f"file://{repo}", str(clone))
    assert baseline.commit(clone, "HEAD~1") is None
    assert baseline.resolve(clone, _ctx(clone), None) == (branched["base"], "the previous commit")
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"


def test_full_clone_fetch_stays_full(repo: Path, branched: dict[str, str], tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--branch", "feature", "--single-branch", f"file://{repo}", str(clone))
    assert baseline.commit(clone, branched["main2"]) is None
    ctx = _ctx(clone, pr=7, base_ref="main", base_sha=branched["main2"])
    assert baseline.resolve(clone, ctx, None) == (branched["base"], "the merge-base with main")
    assert git(clone, "rev-parse", "--is-shallow-repository") == "false"


def test_stored_snapshot_never_trusts_only_other_users(repo: Path, caplog: pytest.LogCaptureFixture) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    target = Target(kind="commit", ref=sha)
    forged = marker("r", "3" * 12) + "\n" + encode_block(Snapshot(metrics={"a": 9.0}), sha)
    LocalForge(repo, "Mallory").create_comment(target, forged)
    assert baseline.stored(LocalForge(repo, "Ada"), sha, "r") is None
    assert "ignored 1 stored report(s)" in caplog.text
