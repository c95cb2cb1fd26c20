"""Private images on GitHub: committed by content hash to an assets branch of the same repository.

Git Data API only (no clone, no push): read the branch head and its tree, create a blob for each
file not already there, one tree (on top of the head's *tree*, as ``base_tree`` is documented) and
one commit for all of them, then move the branch (non-force; when another run moved it first, build
again on the new head). A branch protected by a rule or ruleset is a clean error naming the fix.
Links are blob URLs on the repository's own host at the *branch* (``/blob/cml-assets/<sha256>.png``),
so an image is exactly as private as the repository. A name is its content's hash, so what a link
shows never changes; and a link never depends on a commit that pruning makes unreachable.

Pruning (``cml assets gc``, :func:`stored` and :func:`prune`) rewrites the branch as one new root
commit holding the kept files (their blobs reused, nothing uploaded) and moves the branch last,
with ``force``: a failure before that leaves the branch as it was. Every link names the branch, so
a kept file goes on showing in every comment that links it, and a removed one stops showing.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from cml.errors import ForgeError, InputError, StoreMoved
from cml.forges import AssetStore, StoredAsset
from cml.forges.github_http import Api

_NEED = "contents: write"
_ATTEMPTS = 4
#: What GitHub says when branch protection or a ruleset refuses a ref update (as dependabot-core
#: matches them: common/lib/dependabot/pull_request_updater/github.rb).
_PROTECTED = re.compile(
    r"protected (branch|ref)|rule violation|not authorized to push|required status check|"
    r"must be made through a pull request|cannot force-push|creations being restricted|"
    r"verified signatures|merge queue",
    re.IGNORECASE,
)


def _name(path: Path) -> str:
    """``<sha256>.<ext>``: one name per content, so a re-run uploads nothing."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return f"{digest}{path.suffix.lower()}"


def _check(paths: Sequence[Path]) -> None:
    for path in paths:
        if path.suffix.lower() == ".svg":
            raise InputError(f"{path}: GitHub does not render SVG from a repository in comments: render PNG")
        if not path.is_file():
            raise InputError(f"{path}: no such file")


def upload(api: Api, branch: str, paths: Sequence[Path]) -> dict[Path, str]:
    """Store ``paths`` on ``branch`` in one commit; return each file's link (by branch, see :func:`link`).

    Raises InputError for SVG or missing files (before any request), AuthError without
    ``contents: write``. Endpoints: ``GET git/ref``, ``GET git/trees``, ``POST git/blobs``,
    ``POST git/trees``, ``POST git/commits``, ``PATCH git/refs`` (or ``POST git/refs``).
    """
    _check(paths)
    names = {path: _name(path) for path in paths}
    for _ in range(_ATTEMPTS):
        head = _head(api, branch)
        tree, present = _tree(api, head) if head else (None, set())
        missing = {p: n for p, n in names.items() if n not in present}
        commit = _commit(api, head, tree, missing) if missing else head
        if commit is None or commit == head or _move(api, branch, head, commit):
            return {
                path: link(api.ctx.server_url, api.ctx.repo, branch, name) for path, name in names.items()
            }
    raise ForgeError(f"could not update branch {branch} of {api.ctx.repo}: it kept moving")


def link(server_url: str, repo: str, branch: str, name: str) -> str:
    """The link a comment carries for asset ``name``: its blob on ``branch``, served raw.

    By branch, not by commit: ``cml assets gc`` rewrites the branch as a new root commit, after which
    the commits that earlier links named are unreachable and GitHub may drop them; the name is the
    content's sha256, so the file a link shows can never change under it.
    """
    return f"{server_url}/{repo}/blob/{quote(branch)}/{name}?raw=true"


#: An asset name at the end of a URL path (``.../<sha256>.<ext>``), however it was reached.
_LINKED = re.compile(r"/(?P<name>[0-9a-fA-F]{64}\.[A-Za-z0-9]+)(?![\w.-])")


def linked_names(body: str) -> set[str]:
    """The asset names ``body`` links, lower-cased as stored: every URL path that ends in a content
    name, not only :func:`link`'s own form. A repository renamed or transferred since (GitHub redirects
    the old name), a ``raw/`` or ``raw.githubusercontent.com`` form all still show the image, so they
    keep it; a name is a sha256, so an unrelated link never matches a stored file by chance.
    """
    return {m["name"].lower() for m in _LINKED.finditer(body)}


def stored(api: Api, branch: str, since: datetime) -> AssetStore:
    """The files on ``branch``; a file already in the newest commit before ``since`` carries that
    commit's date, every other one ``since`` itself (it came later).

    Endpoints: ``GET git/ref/heads/B``, ``GET commits?sha=&until=`` for that commit, ``GET
    git/trees/{sha}`` for the head and it. Raises ForgeError when a tree is too big to list whole.
    """
    where = f"branch {branch} of {api.ctx.repo}"
    head = _head(api, branch)
    if head is None:
        return AssetStore(where=where, assets=())
    files = _files(api, head)
    old, when = _before(api, head, since)
    earlier = _files(api, old) if old else {}
    assets = tuple(
        StoredAsset(name=name, key=blob, stored_at=when if when and name in earlier else since)
        for name, blob in sorted(files.items())
    )
    return AssetStore(where=where, assets=assets, version=head)


def _files(api: Api, commit: str) -> dict[str, str]:
    """``{path: blob sha}`` of ``commit``'s tree (``GET git/trees/{commit}``); ForgeError if truncated."""
    data = api.call(
        "GET", f"{api.repo_path}/git/trees/{commit}", what="read the assets tree", need=_NEED
    ).data
    if data.get("truncated"):
        raise ForgeError(f"the assets tree at {commit} of {api.ctx.repo} is too big for GitHub to list whole")
    return {e["path"]: e["sha"] for e in data.get("tree", []) if e.get("type") == "blob"}


def _before(api: Api, head: str, since: datetime) -> tuple[str | None, datetime | None]:
    """The newest commit reachable from ``head`` committed before ``since``, and its date; (None,
    None) when there is none (``GET /repos/{o}/{r}/commits?sha={head}&until={since}&per_page=1``).
    """
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    params = {"sha": head, "until": stamp, "per_page": 1}
    what = f"list commits of the assets branch before {stamp}"
    found = api.call("GET", f"{api.repo_path}/commits", what=what, need=_NEED, params=params).data
    if not found:
        return None, None
    when = datetime.fromisoformat(str(found[0]["commit"]["committer"]["date"]))
    return (str(found[0]["sha"]), when) if when < since else (None, None)


def prune(api: Api, branch: str, store: AssetStore, keep: frozenset[str]) -> None:
    """Make ``branch`` one new root commit holding the kept files of ``store`` (none: delete it).

    Endpoints: ``POST git/trees`` (no ``base_tree``: only the kept blobs), ``POST git/commits`` (no
    parents), ``GET git/ref/heads/B`` then ``PATCH git/refs/heads/B`` with ``force`` (or ``DELETE``).
    The branch moves last. Raises StoreMoved when the branch is no longer at ``store.version``
    (nothing changed), ForgeError when a rule protects it or a call fails (the branch left as it was).
    """
    kept = [a for a in store.assets if a.name in keep]
    gone = len(store.assets) - len(kept)
    commit = _root(api, kept, gone) if kept else None
    if _head(api, branch) != store.version:
        raise StoreMoved(f"branch {branch} of {api.ctx.repo} moved while cml pruned it")
    ref = f"{api.repo_path}/git/refs/heads/{branch}"
    try:
        if commit is None:
            api.call("DELETE", ref, what=f"delete branch {branch}", need=_NEED, idempotent=True)
        else:
            body = {"sha": commit, "force": True}
            api.call("PATCH", ref, what=f"rewrite branch {branch}", need=_NEED, body=body)
    except ForgeError as exc:
        if exc.status in (403, 422) and _PROTECTED.search(f"{exc.message} {exc.body}"):
            raise _protected(api, branch, exc) from None
        if commit is None and exc.status == 422 and _head(api, branch) is None:
            return  # our own delete landed and its answer was lost: the retry found nothing to delete
        raise


def _root(api: Api, kept: Sequence[StoredAsset], gone: int) -> str:
    """A tree of ``kept`` (their existing blobs) and a parentless commit of it; returns the commit's sha."""
    entries = [{"path": a.name, "mode": "100644", "type": "blob", "sha": a.key} for a in kept]
    tree = api.call(
        "POST", f"{api.repo_path}/git/trees", what="create tree", need=_NEED, body={"tree": entries},
        idempotent=True,
    ).data  # fmt: skip
    body = {"message": f"cml assets gc: {len(kept)} kept, {gone} removed", "tree": tree["sha"], "parents": []}
    done = api.call(
        "POST", f"{api.repo_path}/git/commits", what="create commit", need=_NEED, body=body, idempotent=True
    ).data
    return str(done["sha"])


def _head(api: Api, branch: str) -> str | None:
    """The branch's commit sha, None when the branch does not exist (``GET git/ref/heads/B``)."""
    path = f"{api.repo_path}/git/ref/heads/{branch}"
    try:
        return str(api.call("GET", path, what=f"read branch {branch}", need=_NEED).data["object"]["sha"])
    except ForgeError as exc:
        if exc.status == 404:
            return None
        raise


def _tree(api: Api, commit: str) -> tuple[str, set[str]]:
    """The sha of ``commit``'s tree and the paths in it (``GET git/trees/{commit}``)."""
    path = f"{api.repo_path}/git/trees/{commit}"
    data = api.call("GET", path, what="read the assets tree", need=_NEED).data
    return str(data["sha"]), {entry["path"] for entry in data.get("tree", [])}


def _commit(api: Api, head: str | None, tree: str | None, files: dict[Path, str]) -> str:
    """Blobs, one tree on top of ``tree`` (the head's) and one commit on ``head``; returns its sha."""
    entries = []
    for path, name in files.items():
        content = base64.b64encode(path.read_bytes()).decode("ascii")
        blob = api.call(
            "POST", f"{api.repo_path}/git/blobs", what=f"upload {path.name}", need=_NEED,
            body={"content": content, "encoding": "base64"}, idempotent=True,
        ).data  # fmt: skip
        entries.append({"path": name, "mode": "100644", "type": "blob", "sha": blob["sha"]})
    tree_body: dict[str, object] = {"tree": entries}
    if tree:
        tree_body["base_tree"] = tree
    made = api.call(
        "POST", f"{api.repo_path}/git/trees", what="create tree", need=_NEED, body=tree_body, idempotent=True
    ).data
    body = {"message": f"cml: {len(files)} asset(s)", "tree": made["sha"], "parents": [head] if head else []}
    done = api.call(
        "POST", f"{api.repo_path}/git/commits", what="create commit", need=_NEED, body=body, idempotent=True
    ).data
    return str(done["sha"])


def _move(api: Api, branch: str, head: str | None, commit: str) -> bool:
    """Point ``branch`` at ``commit``; False when it moved meanwhile (422), so the caller rebuilds.

    Raises ForgeError when branch protection or a ruleset refuses the update (422, or 403).
    """
    try:
        if head is None:
            api.call(
                "POST", f"{api.repo_path}/git/refs", what=f"create branch {branch}", need=_NEED,
                body={"ref": f"refs/heads/{branch}", "sha": commit}, idempotent=True,
            )  # fmt: skip
        else:
            api.call(
                "PATCH", f"{api.repo_path}/git/refs/heads/{branch}", what=f"move branch {branch}",
                need=_NEED, body={"sha": commit, "force": False},
            )  # fmt: skip
    except ForgeError as exc:
        if exc.status in (403, 422) and _PROTECTED.search(f"{exc.message} {exc.body}"):
            raise _protected(api, branch, exc) from None
        if exc.status != 422:
            raise
        return _head(api, branch) == commit  # our own earlier try may have landed
    return True


def _protected(api: Api, branch: str, exc: ForgeError) -> ForgeError:
    """The one-line error for a refused update of a protected assets branch."""
    return ForgeError(
        f"branch {branch} of {api.ctx.repo} is protected: GitHub refused to update it for the "
        f"report's images ({exc.message})",
        status=exc.status,
        body=exc.body,
        hint=f"exclude {branch} from the branch protection rule or ruleset that covers it, "
        "or set CML_ASSETS_BRANCH to a branch no rule covers",
    )
