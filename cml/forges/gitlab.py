"""GitLab (gitlab.com and self-managed, subpath included) through python-gitlab.

Comments are notes: on merge requests (``pr/IID``), issues (``issue/IID``) and, for commits, notes
inside commit discussions (plain commit comments cannot be edited). Images go to the project's
uploads API and are linked relative (``/uploads/<secret>/<name>``), which GitLab renders in notes.
python-gitlab's own retries are off; every call goes through :func:`cml.forges.retry.call`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cml.ci import CIContext
from cml.errors import ConfigError, ForgeError
from cml.forges import COMMENT_LIMITS, AssetStore, Comment, Status, StoredAsset, Target, retry
from cml.forges.errors import GitLabErrors
from cml.log import logger

if TYPE_CHECKING:
    import gitlab
    from gitlab.v4.objects import Project

T = TypeVar("T")
_END = object()
#: Passed on every call: 429 is our policy's to handle, not python-gitlab's (it would sleep itself).
_OURS: dict[str, Any] = {"obey_rate_limit": False}
#: Pages of an unsortable listing (commit discussions) read at once once their number is known.
_PARALLEL = 4
_STATES = {"success": "success", "failure": "failed", "neutral": "success"}


class GitLabForge:
    """One project on one GitLab instance, reached with one token."""

    name = "gitlab"
    max_comment_chars = COMMENT_LIMITS["gitlab"]

    def __init__(self, ctx: CIContext, gl: gitlab.Gitlab) -> None:
        self.ctx = ctx
        self.gl = gl
        self._errors = GitLabErrors(api_url=gl.api_url, project=ctx.repo)
        gl.session.hooks["response"].append(self._errors.remember)
        self.project: Project = gl.projects.get(ctx.project_id or ctx.repo, lazy=True)
        self._me: str | None = None
        self._web: str | None = None

    def _run(self, fn: Callable[[], T], *, what: str, method: str = "GET", idempotent: bool = True) -> T:
        return retry.call(
            lambda: self._errors.guard(fn, what=what, method=method), what=what, idempotent=idempotent
        )

    def _each(self, start: Callable[[], Iterator[Any]], *, what: str) -> Iterator[Any]:
        """Items of a paginated listing, each page fetch retried on its own."""
        items = self._run(start, what=what)
        while (item := self._run(lambda: next(items, _END), what=what)) is not _END:
            yield item

    @property
    def web_url(self) -> str:
        """The project's web page (``GET /projects/:id`` only when the context lacks its path)."""
        if self._web is None:
            if "/" in self.ctx.repo and self.ctx.server_url:
                self._web = f"{self.ctx.server_url}/{self.ctx.repo}"
            else:
                got = self._run(lambda: self.gl.projects.get(self.project.id, **_OURS), what="GET project")
                self._web = str(got.web_url)
        return self._web

    def whoami(self) -> str:
        """The token's username (``GET /user``; a project access token is a bot user)."""
        if self._me is None:
            user = self._run(lambda: self.gl.http_get("/user", **_OURS), what="GET /user")
            if not isinstance(user, dict) or "username" not in user:
                raise ForgeError(
                    f"GET {self.gl.api_url}/user did not answer like GitLab's API",
                    hint="check CI_API_V4_URL / CI_SERVER_URL (a self-managed instance keeps its subpath)",
                )
            self._me = str(user["username"])
        return self._me

    def pr_for_commit(self, sha: str) -> int | None:
        """The newest opened MR whose head is ``sha`` (``GET .../repository/commits/:sha/merge_requests``)."""
        commit = self.project.commits.get(sha, lazy=True)
        mrs = self._each(
            lambda: iter(commit.merge_requests(iterator=True, **_OURS)),
            what=f"GET commits/{sha}/merge_requests",
        )
        heads = [mr for mr in mrs if mr.get("state") == "opened" and mr.get("sha") == sha]
        return max((int(mr["iid"]) for mr in heads), default=None)

    def _notes(self, target: Target) -> Any:
        parent = self.project.mergerequests if target.kind == "pr" else self.project.issues
        return parent.get(int(target.ref), lazy=True).notes

    def _noun(self, target: Target) -> str:
        return {"pr": "merge_requests", "issue": "issues", "commit": "commit"}[target.kind]

    def _comment(self, target: Target, raw: Mapping[str, Any], discussion: str | None = None) -> Comment:
        page = f"{self.web_url}/-/{self._noun(target)}/{target.ref}"
        ident = f"{discussion}:{raw['id']}" if discussion else str(raw["id"])
        author = (raw.get("author") or {}).get("username", "")
        return Comment(id=ident, body=str(raw["body"]), author=author, url=f"{page}#note_{raw['id']}")

    def comments(self, target: Target) -> Iterator[Comment]:
        """Every non-system note on ``target``, oldest first, all pages (``GET .../notes``, ``.../discussions``)."""
        what = f"GET {self._noun(target)}/{target.ref} notes"
        if target.kind == "commit":
            yield from self._commit_notes(target, what=what)
            return
        notes = self._notes(target)
        listing = lambda: iter(notes.list(iterator=True, sort="asc", order_by="created_at", **_OURS))  # noqa: E731
        for note in self._each(listing, what=what):
            raw = note.attributes  # python-gitlab deep-copies the attributes on every read: read once
            if not raw.get("system"):
                yield self._comment(target, raw)

    def comments_newest_first(self, target: Target) -> Iterator[Comment]:
        """Non-system notes on ``target``, newest first, pages read only as far as consumed.

        MR and issue notes: ``GET .../notes?sort=desc&order_by=created_at`` (GitLab's documented
        sort; one request when the caller stops on the first page). Commit discussions cannot be
        sorted, so they are read in full (see :meth:`_commit_notes`) and returned highest note id first.
        """
        what = f"GET {self._noun(target)}/{target.ref} notes"
        if target.kind == "commit":
            found = list(self._commit_notes(target, what=what))
            yield from sorted(found, key=lambda c: int(c.id.rpartition(":")[2]), reverse=True)
            return
        notes = self._notes(target)
        listing = lambda: iter(notes.list(iterator=True, sort="desc", order_by="created_at", **_OURS))  # noqa: E731
        for note in self._each(listing, what=what):
            raw = note.attributes  # python-gitlab deep-copies the attributes on every read: read once
            if not raw.get("system"):
                yield self._comment(target, raw)

    def _commit_notes(self, target: Target, *, what: str) -> Iterator[Comment]:
        """Non-system notes of the commit's discussions (``GET .../commits/:sha/discussions``), in order."""
        discussions = self.project.commits.get(target.ref, lazy=True).discussions
        for disc in self._all_pages(discussions.list, what=what):
            for note in disc.attributes.get("notes", []):
                if not note.get("system"):
                    yield self._comment(target, note, str(disc.id))

    def _all_pages(self, listing: Callable[..., Any], *, what: str) -> list[Any]:
        """Every item of ``listing``: the first page, then, when GitLab says how many pages there are
        (``X-Total-Pages``), the others :data:`_PARALLEL` at a time; otherwise one after another.
        """
        import itertools
        from concurrent.futures import ThreadPoolExecutor

        first = self._run(lambda: listing(iterator=True, **_OURS), what=what)
        pages, per, total = first.total_pages, first.per_page, first.total
        if not pages or not per or total is None or pages <= 1:
            drained = iter(first)
            return list(self._each(lambda: drained, what=what))
        head = self._run(lambda: list(itertools.islice(first, min(per, total))), what=what)  # in hand

        def page(n: int) -> list[Any]:
            got = self._run(
                lambda: listing(page=n, per_page=per, get_all=False, **_OURS), what=f"{what} page {n}"
            )
            return list(got)

        with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
            rest = list(pool.map(page, range(2, pages + 1)))
        return head + [item for chunk in rest for item in chunk]

    def create_comment(self, target: Target, body: str) -> Comment:
        """Post a note (``POST .../notes``; commits: ``POST .../commits/:sha/discussions``).

        Raises MaybeWritten when the answer was lost after the request went out.
        """
        what = f"POST {self._noun(target)}/{target.ref} note"
        if target.kind == "commit":
            discussions = self.project.commits.get(target.ref, lazy=True).discussions
            disc = self._run(
                lambda: discussions.create({"body": body}, **_OURS),
                what=what,
                method="POST",
                idempotent=False,
            )
            return self._comment(target, disc.attributes["notes"][0], str(disc.id))
        notes = self._notes(target)
        note = self._run(
            lambda: notes.create({"body": body}, **_OURS), what=what, method="POST", idempotent=False
        )
        return self._comment(target, note.attributes)

    def update_comment(self, target: Target, comment: Comment, body: str) -> Comment:
        """Edit a note (``PUT .../notes/:id``; commits: ``PUT .../discussions/:did/notes/:id``)."""
        what = f"PUT {self._noun(target)}/{target.ref} note {comment.id}"
        discussion, _, note_id = comment.id.rpartition(":")
        if target.kind == "commit":
            disc = self.project.commits.get(target.ref, lazy=True).discussions.get(discussion, lazy=True)
            notes = disc.notes
        else:
            notes = self._notes(target)
        raw = self._run(lambda: notes.update(int(note_id), {"body": body}, **_OURS), what=what, method="PUT")
        return self._comment(target, raw, discussion or None)

    def delete_comment(self, target: Target, comment: Comment) -> None:
        """Delete a note (``DELETE .../notes/:id``; commits: ``DELETE .../discussions/:did/notes/:id``)."""
        what = f"DELETE {self._noun(target)}/{target.ref} note {comment.id}"
        discussion, _, note_id = comment.id.rpartition(":")
        if target.kind == "commit":
            notes = (
                self.project.commits.get(target.ref, lazy=True).discussions.get(discussion, lazy=True).notes
            )
        else:
            notes = self._notes(target)
        self._run(lambda: notes.delete(int(note_id), **_OURS), what=what, method="DELETE")

    def upload_assets(self, paths: Sequence[Path]) -> dict[Path, str]:
        """Upload each file (``POST /projects/:id/uploads``) unless GitLab already holds its content.

        Identical files are sent once; a file an earlier note of ours links is reused (see
        :mod:`cml.forges.gitlab_uploads`). Returns relative ``/uploads/<secret>/<name>`` links,
        which render inside notes.
        """
        from cml.forges import gitlab_uploads as up

        links: dict[Path, str] = {}
        seen: dict[str, str] = {}
        earlier: dict[str, str] | None = None
        for path in paths:
            data = path.read_bytes()
            digest = up.digest(data)
            if digest not in seen:
                earlier = self._earlier_uploads() if earlier is None else earlier
                found = earlier.get(up.key(digest))
                if found and self._holds(found, digest):
                    seen[digest] = found
                else:
                    seen[digest] = self._upload(up.upload_name(path, digest), data)
            links[path] = seen[digest]
        return links

    def _upload(self, name: str, data: bytes) -> str:
        """``POST /projects/:id/uploads``; a repeated upload only leaves an unused file: safe to retry."""
        send = functools.partial(self.project.upload, name, filedata=data, **_OURS)
        return str(self._run(send, what=f"POST uploads {name}", method="POST")["url"])

    def _earlier_uploads(self) -> dict[str, str]:
        """Content-named upload links in our own notes on this pipeline's MR (none outside one)."""
        from cml.forges import gitlab_uploads as up

        if self.ctx.pr is None:
            return {}
        try:
            me = self.whoami()
            mine = [c.body for c in self.comments(Target(kind="pr", ref=str(self.ctx.pr))) if c.author == me]
        except ForgeError as exc:
            logger.info("not reusing earlier uploads: %s", exc.message)
            return {}
        return up.earlier_links(mine)

    def _holds(self, link: str, digest: str) -> bool:
        """True when ``GET /projects/:id/uploads/:secret/:filename`` (GitLab 17.4+) returns content with ``digest``."""
        from cml.forges import gitlab_uploads as up

        path = f"/projects/{self.project.encoded_id}{link}"
        try:
            got = self._run(lambda: self.gl.http_get(path, raw=True, **_OURS), what=f"GET {link}")
        except ForgeError as exc:
            logger.info("uploading %s again: %s", link.rsplit("/", 1)[-1], exc.message)
            return False
        content = getattr(got, "content", None)
        return isinstance(content, bytes) and up.digest(content) == digest

    def stored_assets(self, since: datetime) -> AssetStore:
        """The project's uploads (``GET /projects/:id/uploads``, GitLab 17.2+, Maintainer role).

        Raises ForgeError naming the role when GitLab refuses (403) or lacks the route (404).
        """
        path = f"/projects/{self.project.encoded_id}/uploads"
        listing = lambda: iter(self.gl.http_list(path, iterator=True, **_OURS))  # noqa: E731
        try:
            raw = list(self._each(listing, what="GET uploads"))
        except ForgeError as exc:
            if exc.status not in (403, 404):
                raise
            raise ForgeError(
                f"GET {path}: GitLab would not list the project's uploads ({exc.status})",
                status=exc.status,
                body=exc.body,
                hint="listing and deleting uploads needs GitLab 17.2 or later and a token with the Maintainer role",
            ) from None
        assets = tuple(
            StoredAsset(
                name=str(u["filename"]), key=str(u["id"]), stored_at=datetime.fromisoformat(u["created_at"])
            )
            for u in raw
        )
        return AssetStore(where=f"uploads of {self.ctx.repo}", assets=assets)

    def bodies_since(self, since: datetime) -> Iterator[str]:
        """Notes updated since ``since`` on MRs and issues updated since then, and on commits since then.

        ``GET .../merge_requests?updated_after=&state=all`` and ``GET .../issues?updated_after=`` (a
        note touches its MR or issue), each one's ``GET .../notes?sort=desc&order_by=updated_at``
        read until older; ``GET .../repository/commits?since=&all=true`` and each one's discussions.
        A project with merge requests or issues turned off (403/404 on the listing) has no notes there.
        """
        stamp = since.isoformat()
        for parent in (self.project.mergerequests, self.project.issues):
            changed = _listing(parent.list, updated_after=stamp, state="all")
            try:
                items = list(self._each(changed, what=f"GET {parent.path}?updated_after"))
            except ForgeError as exc:
                if exc.status not in (403, 404):
                    raise
                logger.info("not reading %s (turned off in this project?): %s", parent.path, exc.message)
                continue
            for item in items:
                yield from self._recent_notes(item.notes, since, what=f"GET {parent.path}/{item.iid}/notes")
        commits = _listing(self.project.commits.list, since=stamp, all=True)
        for commit in self._each(commits, what="GET repository/commits?since"):
            threads = self.project.commits.get(commit.id, lazy=True).discussions.list
            for disc in self._all_pages(threads, what=f"GET commits/{commit.id}/discussions"):
                for note in disc.attributes.get("notes", []):
                    if datetime.fromisoformat(note["updated_at"]) >= since:
                        yield str(note.get("body") or "")

    def _recent_notes(self, notes: Any, since: datetime, *, what: str) -> Iterator[str]:
        """Bodies of ``notes`` updated since ``since``, newest first, stopping at the first older one."""
        for note in self._each(_listing(notes.list, sort="desc", order_by="updated_at"), what=what):
            raw = note.attributes  # one deep copy, not two
            if datetime.fromisoformat(raw["updated_at"]) < since:
                return
            yield str(raw.get("body") or "")

    def linked_assets(self, body: str) -> set[str]:
        """The file names of the uploads ``body`` links (uploads are matched by name: safe, never too few)."""
        from cml.forges import gitlab_uploads

        return gitlab_uploads.linked_names(body)

    def remove_assets(self, store: AssetStore, keep: frozenset[str]) -> None:
        """``DELETE /projects/:id/uploads/:upload_id`` (Maintainer) for each upload not kept; 404 = gone."""
        for asset in store.assets:
            if asset.name in keep:
                continue
            path = f"/projects/{self.project.encoded_id}/uploads/{asset.key}"
            try:
                self._run(
                    functools.partial(self.gl.http_delete, path, **_OURS),
                    what=f"DELETE uploads/{asset.key}",
                    method="DELETE",
                )
            except ForgeError as exc:
                if exc.status != 404:
                    raise

    def set_status(self, sha: str, status: Status) -> str:
        """Set commit status ``status.name`` on ``sha`` (``POST /projects/:id/statuses/:sha``).

        ``neutral`` is reported as ``success``. Returns the status's target URL or the commit page.
        """
        data = {
            "state": _STATES[status.conclusion],
            "name": status.name,
            "description": status.description,
        }
        if status.details_url:
            data["target_url"] = status.details_url
        statuses = self.project.commits.get(sha, lazy=True).statuses
        got = self._run(lambda: statuses.create(data, **_OURS), what=f"POST statuses/{sha}", method="POST")
        return str(got.attributes.get("target_url") or f"{self.web_url}/-/commit/{sha}")


def _listing(fn: Callable[..., Any], **params: Any) -> Callable[[], Iterator[Any]]:
    """A starter for :meth:`GitLabForge._each`: ``fn(iterator=True, **params)`` as an iterator."""
    return lambda: iter(fn(iterator=True, **params, **_OURS))


def root_url(ctx: CIContext) -> str:
    """The instance root python-gitlab wants: the API URL without ``/api/v4`` (a subpath stays)."""
    api = ctx.api_url.rstrip("/")
    if api.endswith("/api/v4"):
        return api[: -len("/api/v4")]
    return ctx.server_url.rstrip("/")


def _checked_root(ctx: CIContext, options: Mapping[str, str]) -> str:
    """The instance root, or ConfigError naming the variable that should have given it."""
    from urllib.parse import urlsplit

    url = options.get("url") or (root_url(ctx) if ctx.provider == "gitlab_ci" else "")
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname:
        return url
    if not url:
        raise ConfigError(
            "--forge gitlab: GitLab's API URL is unknown: CI_SERVER_URL is not set",
            hint="outside GitLab CI, set GITLAB_CI=true, CI_SERVER_URL=https://gitlab.example.com and "
            "CI_PROJECT_PATH=group/project",
        )
    raise ConfigError(
        f"GitLab's API URL {url!r} (from CI_API_V4_URL / CI_SERVER_URL) is not an http(s) URL",
        hint="set CI_SERVER_URL like https://gitlab.example.com (a subpath may follow)",
    )


def create(ctx: CIContext, token: str, options: Mapping[str, str]) -> GitLabForge:
    """A forge for ``ctx``'s project; python-gitlab's own retries are off, its session guarded.

    Raises ConfigError at once when the API URL cannot be formed (``--forge gitlab`` outside GitLab CI).
    """
    import gitlab

    from cml.forges import transport

    gl = gitlab.Gitlab(
        url=_checked_root(ctx, options),
        private_token=token,
        retry_transient_errors=False,
        timeout=float(options.get("timeout", 15)),
        per_page=100,
        keep_base_url=True,  # follow pagination links on our URL even if GitLab's external_url differs
    )
    rules = transport.Rules(forge="GitLab", api_url=gl.api_url, setting="CI_SERVER_URL / CI_API_V4_URL")
    transport.guard(gl.session, rules)
    return GitLabForge(ctx, gl)
