"""Sticky comments against the real local forge, and recovery from a lost create."""

from __future__ import annotations

from pathlib import Path

import pytest

from cml import comment
from cml.errors import ForgeError
from cml.forges import Comment, Target
from cml.forges.local import LocalForge
from cml.forges.retry import MaybeWritten

PR = Target(kind="pr", ref="7")


def _post(forge: LocalForge, text: str, title: str = "train", sticky: bool = True) -> comment.Posted:
    return comment.send(forge, PR, text, title=title, sticky=sticky)


def test_fifty_updates_keep_one_comment(tmp_path: Path) -> None:
    forge = LocalForge(tmp_path, "ada")
    results = [_post(forge, f"run {i}") for i in range(50)]
    assert [r.action for r in results] == ["created"] + ["updated"] * 49
    comments = list(forge.comments(PR))
    assert len(comments) == 1
    assert comments[0].body.endswith("run 49")


def test_titles_are_independent_and_create_always_adds(tmp_path: Path) -> None:
    forge = LocalForge(tmp_path, "ada")
    _post(forge, "a", title="train")
    _post(forge, "b", title="eval")
    _post(forge, "a2", title="train")
    _post(forge, "c", title="train", sticky=False)
    bodies = [c.body.splitlines()[-1] for c in forge.comments(PR)]
    assert bodies == ["a2", "b", "c"]


def test_another_users_marker_is_left_alone(tmp_path: Path) -> None:
    theirs = LocalForge(tmp_path, "mallory")
    _post(theirs, "theirs")
    mine = LocalForge(tmp_path, "ada")
    assert _post(mine, "mine").action == "created"
    assert _post(mine, "mine again").action == "updated"
    comments = list(mine.comments(PR))
    assert [(c.author, c.body.splitlines()[-1]) for c in comments] == [
        ("mallory", "theirs"),
        ("ada", "mine again"),
    ]


def test_title_with_quotes_round_trips() -> None:
    body, _ = comment.compose("x", title='say "hi" <b>', nonce="ab12", limit=1000)
    mine = Comment(id="1", body=body, author="ada", url="u")
    assert comment.find_sticky([mine], title='say "hi" <b>', author="ada") is mine
    assert comment.find_sticky([mine], title="say", author="ada") is None


class LosingForge(LocalForge):
    """Stores the comment, then loses the answer ``lose`` times (a dropped connection)."""

    def __init__(self, root: Path, lose: int, store: bool = True) -> None:
        super().__init__(root, "ada")
        self.lose, self.store, self.creates = lose, store, 0

    def create_comment(self, target: Target, body: str) -> Comment:
        self.creates += 1
        if self.lose:
            self.lose -= 1
            if self.store:
                super().create_comment(target, body)
            raise MaybeWritten("connection reset")
        return super().create_comment(target, body)


def test_lost_answer_is_found_not_reposted(tmp_path: Path) -> None:
    forge = LosingForge(tmp_path, lose=1)
    assert _post(forge, "once").action == "created"
    assert forge.creates == 1
    assert len(list(forge.comments(PR))) == 1


def test_lost_request_is_posted_again(tmp_path: Path) -> None:
    forge = LosingForge(tmp_path, lose=2, store=False)
    _post(forge, "once")
    assert forge.creates == 3
    assert len(list(forge.comments(PR))) == 1


def test_gives_up_with_a_forge_error(tmp_path: Path) -> None:
    forge = LosingForge(tmp_path, lose=10, store=False)
    with pytest.raises(ForgeError, match="could not post a comment on pr/7"):
        _post(forge, "never")


def test_compose_cuts_over_budget_and_keeps_marker() -> None:
    report = "# Head\n" + "".join(f"## Section {i}\n" + "x" * 200 + "\n" for i in range(20))
    body, cut = comment.compose(report, title="t", nonce="abc", limit=1000)
    assert cut
    assert len(body) <= 1000
    assert body.startswith('<!-- cml:sticky title="t" run="abc" -->')
    assert "cut by" in body


@pytest.mark.parametrize("title", ["train", 'say "hi" & <bye> -->', "", "métriques 🟢"])
def test_the_marker_parses_back_to_its_title_and_run(title: str) -> None:
    body = comment.marker(title, "0a1b2c3d4e5f") + "\nreport"
    assert comment.parse_marker(body) == (title, "0a1b2c3d4e5f")
    assert comment.parse_marker('<!-- cml:sticky title="x" -->\nno run id') is None
