"""Converging after a race, and a comment gone before its edit, against the real local forge."""

from __future__ import annotations

from pathlib import Path

import pytest

from cml import comment
from cml.errors import ForgeError
from cml.forges import Comment, Target
from cml.forges.local import LocalForge

PR = Target(kind="pr", ref="7")


def _body(text: str, title: str = "train") -> str:
    return comment.compose(text, title=title, nonce=comment.new_nonce(), limit=10_000)[0]


def test_racing_creates_converge_on_the_newest(tmp_path: Path) -> None:
    forge = LocalForge(tmp_path, "ada")
    made = [forge.create_comment(PR, _body(f"run {k}")) for k in range(3)]  # all three looked, none found
    forge.create_comment(PR, _body("other title", title="eval"))
    kept = [
        comment.converge(forge, PR, _body(f"run {k}"), m, title="train", author="ada")
        for k, m in enumerate(made)
    ]
    assert {k.id for k in kept} == {made[-1].id}  # every run agrees on the newest
    left = list(forge.comments(PR))
    assert [c.id for c in left] == [made[-1].id, "4"]
    assert not (tmp_path / ".cml" / "comments" / "pr-7" / f"{made[0].id}.md").exists()


def test_converge_keeps_another_users_copy(tmp_path: Path) -> None:
    theirs = LocalForge(tmp_path, "mallory").create_comment(PR, _body("theirs"))
    forge = LocalForge(tmp_path, "ada")
    made = forge.create_comment(PR, _body("mine"))
    assert comment.converge(forge, PR, _body("mine"), made, title="train", author="ada") == made
    assert [c.id for c in forge.comments(PR)] == [theirs.id, made.id]


def test_the_newest_is_by_id_not_listing_order() -> None:
    older = Comment(id="abc:9", body=_body("a"), author="ada", url="u")
    newer = Comment(id="def:10", body=_body("b"), author="ada", url="u")
    assert comment.find_sticky([newer, older], title="train", author="ada") is newer


def test_an_edit_of_a_deleted_comment_posts_a_new_one(tmp_path: Path) -> None:
    forge = LocalForge(tmp_path, "ada")
    first = comment.send(forge, PR, "first", title="train", sticky=True)

    class Deleting(LocalForge):
        def update_comment(self, target: Target, old: Comment, body: str) -> Comment:
            self.delete_comment(target, old)  # someone deleted it right after we listed
            return super().update_comment(target, old, body)

    second = comment.send(Deleting(tmp_path, "ada"), PR, "second", title="train", sticky=True)
    assert second.action == "created"
    [only] = forge.comments(PR)
    assert only.id == second.id != first.id
    assert only.body.endswith("second")


def test_local_delete_twice_is_a_404(tmp_path: Path) -> None:
    forge = LocalForge(tmp_path, "ada")
    made = forge.create_comment(PR, "x")
    forge.delete_comment(PR, made)
    with pytest.raises(ForgeError) as gone:
        forge.delete_comment(PR, made)
    assert gone.value.status == 404
    with pytest.raises(ForgeError):
        forge.update_comment(PR, made, "y")
