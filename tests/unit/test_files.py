"""cml.files: where a report may lie (the work tree, never a git directory) and what is read of a file."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from cml import files
from cml.errors import InputError
from tests.conftest import git


def test_tree_is_the_work_tree_from_any_folder_in_it(repo: Path) -> None:
    (repo / "a" / "b").mkdir(parents=True)
    for here in (repo, repo / "a" / "b"):
        assert files.tree(here) == files.Tree(root=repo.resolve(), git_dirs=(repo.resolve() / ".git",))


def test_tree_outside_a_repository_is_the_folder_itself(tmp_path: Path) -> None:
    (tmp_path / "artifact").mkdir()
    assert files.tree(tmp_path / "artifact") == files.Tree(root=(tmp_path / "artifact").resolve())


def test_a_linked_worktree_refuses_the_git_dirs_its_dot_git_file_names(repo: Path, tmp_path: Path) -> None:
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"))
    where = files.tree(tmp_path / "wt")
    assert where.root == (tmp_path / "wt").resolve()
    assert where.git_dirs == (repo.resolve() / ".git" / "worktrees" / "wt", repo.resolve() / ".git")
    (tmp_path / "wt" / "cfg.md").symlink_to(repo / ".git" / "config")
    with pytest.raises(InputError, match=r"^cfg\.md: resolves to .*, outside the work tree"):
        where.check(tmp_path / "wt" / "cfg.md", "cfg.md")


def test_a_git_dir_inside_the_tree_under_another_name_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "w"
    (root / "meta").mkdir(parents=True)
    (root / ".git").write_text("gitdir: meta\n")  # git init --separate-git-dir=meta, inside the tree
    (root / "meta" / "config").write_text("[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n")
    where = files.tree(root)
    assert where.git_dirs == ((root / "meta").resolve(),)
    with pytest.raises(InputError, match="inside a git directory"):
        where.check(root / "meta" / "config", "meta/config")


@pytest.mark.parametrize("rel", [".git/config", "vendor/lib/.git/config", "vendor/.GIT/HEAD"])
def test_dot_git_at_any_depth_is_refused(repo: Path, rel: str) -> None:
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).touch()
    (repo / "link.md").symlink_to(repo / rel)
    where = files.tree(repo)
    for path in (repo / rel, repo / "link.md"):
        with pytest.raises(InputError) as err:
            where.check(path, "the report")
        assert str(err.value).startswith(
            f"the report: resolves to {(repo / rel).resolve()}, inside a git directory"
        )


def test_dot_dot_and_symlinks_out_of_the_tree_are_refused_in_ones_are_not(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.md").write_text("x")
    (repo / "out.md").symlink_to(tmp_path / "outside.md")
    (repo / "docs").mkdir()
    (repo / "docs" / "in.md").symlink_to(repo / "README.md")
    where = files.tree(repo)
    for path in (repo / ".." / "outside.md", repo / "out.md"):
        with pytest.raises(InputError, match="outside the work tree"):
            where.check(path, "r.md")
    assert where.check(repo / "docs" / "in.md", "in.md") == (repo / "README.md").resolve()
    assert where.check(repo / "docs" / ".." / "README.md", "r") == (repo / "README.md").resolve()


def test_data_files_follow_symlinks_anywhere_but_into_a_git_dir(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "dvc-cache" / "ab"
    cache.mkdir(parents=True)
    (cache / "cdef").write_text('{"acc": 0.5}')
    (repo / "metrics.json").symlink_to(cache / "cdef")
    (repo / "params.yaml").symlink_to(repo / ".git" / "config")
    where = files.tree(repo)
    assert files.read_data(repo / "metrics.json", "metrics.json", where) == '{"acc": 0.5}'
    with pytest.raises(
        InputError, match=r"^params\.yaml: resolves to .*\.git/config, inside a git directory"
    ):
        files.read_data(repo / "params.yaml", "params.yaml", where)


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    result: list[BaseException | bytes] = []

    def read() -> None:
        try:
            result.append(files.read_bytes(fifo, 100, "pipe.md"))
        except BaseException as exc:  # the test reports what came back
            result.append(exc)

    start = time.monotonic()
    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(5)
    elapsed = time.monotonic() - start
    print(f"FIFO refused in {elapsed:.3f} s")
    if worker.is_alive():  # release the blocked open so the thread can end
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading a FIFO blocked")
    assert isinstance(result[0], InputError)
    assert str(result[0]) == "pipe.md: is a FIFO (named pipe), expected a regular file"


@pytest.mark.parametrize(
    ("special", "kind"),
    [("/dev/zero", "a character device"), ("/dev/urandom", "a character device"), ("/", "a directory")],
)
def test_devices_and_directories_are_refused(tmp_path: Path, special: str, kind: str) -> None:
    if not os.path.exists(special):
        pytest.skip(f"no {special} here")
    (tmp_path / "m.json").symlink_to(special)
    with pytest.raises(InputError) as err:
        files.read_bytes(tmp_path / "m.json", 10, "m.json")
    assert str(err.value) == f"m.json: is {kind}, expected a regular file"


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.md"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(InputError, match=r"^s\.md: is a socket, expected a regular file$"):
            files.read_bytes(path, 10, "s.md")


def test_the_cap_is_exact_and_a_sparse_giant_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_bytes(b"x" * 100)
    assert files.read_bytes(path, 100, "r.md") == b"x" * 100
    with pytest.raises(InputError, match=r"^r\.md: 100 bytes, over cml's limit of 0 MB"):
        files.read_bytes(path, 99, "r.md")
    with path.open("r+b") as handle:
        handle.truncate(files.DATA_CAP + 1)  # sparse: nothing is written, nothing must be read
    with pytest.raises(InputError, match=r"50,000,001 bytes, over cml's limit of 50 MB"):
        files.read_data(path, "r.md", files.Tree(root=tmp_path))
    assert files.check_regular(tmp_path / "r.md", files.DATA_CAP + 1, "r.md") == files.DATA_CAP + 1


def test_missing_unreadable_loops_and_bad_utf8_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    (tmp_path / "bad.md").write_bytes(b"ok \xff")
    cases = {
        tmp_path / "none.md": "none.md: no such file",
        tmp_path / "a": "a: cannot read: Too many levels of symbolic links",
        tmp_path / "bad.md": "bad.md: not UTF-8 text (byte 3)",
    }
    for path, message in cases.items():
        with pytest.raises(InputError) as err:
            files.read_text(path, 100, path.name)
        assert str(err.value) == message
    with pytest.raises(files.Missing):
        files.read_bytes(tmp_path / "none.md", 1, "none.md")


def test_text_from_elsewhere_is_capped_too() -> None:
    assert files.check_size("é" * 10, 20, "git abc:m.json") == "é" * 10
    with pytest.raises(InputError, match=r"^git abc:m\.json: 22 bytes, over"):
        files.check_size("é" * 11, 21, "git abc:m.json")
