"""The GitHub forge (PyGithub): issue/PR and commit comments, check runs, private image assets.

Requests go through :class:`cml.forges.github_http.Api` (one retry policy, errors translated).
Targets ``pr/N`` and ``issue/N`` use issue comments; ``commit/SHA`` uses commit comments. A cold
sticky update costs ``GET /user``, the first and last comment pages (then earlier pages only until
ours) and one ``PATCH`` (or a ``POST`` and a full read of the pages).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cml.ci import CIContext
from cml.errors import AuthError, ForgeError
from cml.forges import COMMENT_LIMITS, AssetStore, Comment, Status, Target
from cml.forges.github_http import Api

_PER_PAGE = 100
_VIEWER = "query { viewer { login } }"
_SUMMARY_MAX = 65_535


class GitHubForge:
    """GitHub or GitHub Enterprise (``api_url`` = ``https://HOST/api/v3``)."""

    name = "github"
    max_comment_chars = COMMENT_LIMITS["github"]

    def __init__(self, ctx: CIContext, api: Api, assets_branch: str = "cml-assets") -> None:
        self.ctx = ctx
        self.api = api
        self.assets_branch = assets_branch
        self._me: str | None = None

    def whoami(self) -> str:
        """The token's login (``GET /user``; when that is 403, GraphQL's ``viewer``).

        GitHub App installation tokens, the job's ``GITHUB_TOKEN`` included, may not read ``/user``
        ("Resource not accessible by integration"); GraphQL answers them with ``<app-slug>[bot]``,
        the login their comments carry.
        """
        if self._me is None:
            try:
                data = self.api.call("GET", "/user", what="GET /user", need="").data
            except AuthError as exc:
                if exc.status != 403:
                    raise
                self._me = self._viewer()
            else:
                self._me = _login(data, what=f"GET {self.ctx.api_url}/user")
        return self._me

    def _viewer(self) -> str:
        """``query { viewer { login } }`` (``POST /graphql``; GitHub Enterprise: ``/api/graphql``)."""
        url = graphql_url(self.ctx.api_url)
        answer = self.api.call(
            "POST", url, what=f"POST {url} (viewer)", need="", body={"query": _VIEWER}, idempotent=True
        )
        data = answer.data if isinstance(answer.data, dict) else {}
        viewer = (data.get("data") or {}).get("viewer")
        if not isinstance(viewer, dict):
            errors = data.get("errors") or [{}]
            said = errors[0].get("message", "no viewer") if isinstance(errors[0], dict) else "no viewer"
            raise ForgeError(f"POST {url}: GitHub did not say whom the token belongs to ({said})")
        return _login(viewer, what=f"POST {url}")

    def pr_for_commit(self, sha: str) -> int | None:
        """The newest open PR whose head is ``sha``.

        When the context names the PR's head branch and repository (a fork-safe post workflow's
        ``workflow_run``), ``GET /repos/{o}/{r}/pulls?head={head owner}:{branch}&state=open``:
        ``GET commits/{sha}/pulls`` does not find a commit that exists only in a fork. Otherwise
        ``GET /repos/{o}/{r}/commits/{sha}/pulls``. Either way only a PR whose ``head.sha`` is ``sha``
        counts: a branch of the same name in another fork, or one pushed since, is not this run's PR.
        """
        from cml.forges import github_pages

        head_repo, branch = self.ctx.head_repo, self.ctx.head_ref
        if head_repo and branch and "/" in head_repo:
            path = f"{self.api.repo_path}/pulls"
            params = {"head": f"{head_repo.split('/')[0]}:{branch}", "state": "open", "per_page": _PER_PAGE}
            what = f"GET {path}?head={params['head']}"
        else:
            path = f"{self.api.repo_path}/commits/{sha}/pulls"
            params, what = {"per_page": _PER_PAGE}, f"GET {path}"
        pulls = github_pages.items(self.api, path, what=what, need="pull-requests: read", params=params)
        heads = [p for p in pulls if p.get("state") == "open" and (p.get("head") or {}).get("sha") == sha]
        return max((int(p["number"]) for p in heads), default=None)

    def _comments_path(self, target: Target) -> str:
        if target.kind == "commit":
            return f"{self.api.repo_path}/commits/{target.ref}/comments"
        return f"{self.api.repo_path}/issues/{target.ref}/comments"

    def _need(self, target: Target, access: str = "write") -> str:
        """The workflow permission a comment on ``target`` needs, for 403 messages."""
        scope = {"pr": "pull-requests", "issue": "issues"}.get(target.kind, "contents")
        return f"{scope}: {access}"

    def comments(self, target: Target) -> Iterator[Comment]:
        """Every comment on ``target``, oldest first, across all pages (see :mod:`.github_pages`)."""
        from cml.forges import github_pages

        path = self._comments_path(target)
        what, need = f"list comments on {target}", self._need(target, "read")
        for raw in github_pages.items(self.api, path, what=what, need=need, params={"per_page": _PER_PAGE}):
            yield _comment(raw)

    def comments_newest_first(self, target: Target) -> Iterator[Comment]:
        """The comments on ``target``, newest first, pages read only as far as consumed.

        The first page for its ``rel="last"`` link, then backwards (issue and commit comments both
        send ``Link``): two requests when the caller stops on the last page.
        """
        from cml.forges import github_pages

        path = self._comments_path(target)
        what, need = f"list comments on {target}", self._need(target, "read")
        params = {"per_page": _PER_PAGE}
        for raw in github_pages.newest_first(self.api, path, what=what, need=need, params=params):
            yield _comment(raw)

    def create_comment(self, target: Target, body: str) -> Comment:
        """``POST`` an issue or commit comment. Raises MaybeWritten when its answer was lost."""
        path = self._comments_path(target)
        answer = self.api.call(
            "POST", path, what=f"comment on {target}", need=self._need(target), body={"body": body}
        )
        return _comment(answer.data)

    def update_comment(self, target: Target, comment: Comment, body: str) -> Comment:
        """``PATCH /repos/{o}/{r}/issues/comments/{id}`` (or ``/comments/{id}`` on a commit)."""
        kind = "comments" if target.kind == "commit" else "issues/comments"
        path = f"{self.api.repo_path}/{kind}/{comment.id}"
        answer = self.api.call(
            "PATCH",
            path,
            what=f"edit comment {comment.id} on {target}",
            need=self._need(target),
            body={"body": body},
        )
        return _comment(answer.data)

    def delete_comment(self, target: Target, comment: Comment) -> None:
        """``DELETE /repos/{o}/{r}/issues/comments/{id}`` (or ``/comments/{id}`` on a commit); 204."""
        kind = "comments" if target.kind == "commit" else "issues/comments"
        path = f"{self.api.repo_path}/{kind}/{comment.id}"
        what = f"delete comment {comment.id} on {target}"
        self.api.call("DELETE", path, what=what, need=self._need(target), idempotent=True)

    def upload_assets(self, paths: Sequence[Path]) -> dict[Path, str]:
        """Commit the files by content hash to the assets branch; links are blob URLs on the branch."""
        from cml.forges import github_assets

        return github_assets.upload(self.api, self.assets_branch, paths)

    def stored_assets(self, since: datetime) -> AssetStore:
        """The files on the assets branch (see :func:`.github_assets.stored`)."""
        from cml.forges import github_assets

        return github_assets.stored(self.api, self.assets_branch, since)

    def bodies_since(self, since: datetime) -> Iterator[str]:
        """Issue and PR comments updated since ``since``, then commit comments updated since then.

        ``GET /repos/{o}/{r}/issues/comments?since=&sort=updated`` (GitHub filters), then every page of
        ``GET /repos/{o}/{r}/comments`` (no ``since`` there: filtered here on ``updated_at``).
        """
        from cml.forges import github_pages

        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        params = {"since": stamp, "sort": "updated", "direction": "asc", "per_page": _PER_PAGE}
        path = f"{self.api.repo_path}/issues/comments"
        need = "issues: read, pull-requests: read"
        for raw in github_pages.items(self.api, path, what="list issue comments", need=need, params=params):
            yield str(raw.get("body") or "")
        path, params = f"{self.api.repo_path}/comments", {"per_page": _PER_PAGE}
        for raw in github_pages.items(
            self.api, path, what="list commit comments", need="contents: read", params=params
        ):
            if datetime.fromisoformat(str(raw.get("updated_at") or raw["created_at"])) >= since:
                yield str(raw.get("body") or "")

    def linked_assets(self, body: str) -> set[str]:
        """Asset names ``body`` links (see :func:`.github_assets.linked_names`)."""
        from cml.forges import github_assets

        return github_assets.linked_names(body)

    def remove_assets(self, store: AssetStore, keep: frozenset[str]) -> None:
        """Rewrite the assets branch as one root commit of the kept files (see :func:`.github_assets.prune`)."""
        from cml.forges import github_assets

        github_assets.prune(self.api, self.assets_branch, store, keep)

    def set_status(self, sha: str, status: Status) -> str:
        """A check run (``POST /repos/{o}/{r}/check-runs``); when refused, a commit status."""
        from cml.markdown import fit

        summary, _ = fit(status.summary or status.title, _SUMMARY_MAX, _cut_note)
        run: dict[str, Any] = {
            "name": status.name,
            "head_sha": sha,
            "status": "completed",
            "conclusion": status.conclusion,
            "output": {"title": status.title, "summary": summary},
        }
        if status.details_url:
            run["details_url"] = status.details_url
        path = f"{self.api.repo_path}/check-runs"
        try:  # a duplicate check run is harmless (the newest one shows), so a lost answer is retried
            data = self.api.call(
                "POST", path, what="create check run", need="checks: write", body=run, idempotent=True
            ).data
            return str(data["html_url"])
        except AuthError as exc:
            if exc.status != 403:
                raise
        return self._commit_status(sha, status)

    def _commit_status(self, sha: str, status: Status) -> str:
        """``POST /repos/{o}/{r}/statuses/{sha}`` (context = name; re-posting replaces it)."""
        state = "failure" if status.conclusion == "failure" else "success"
        target = status.details_url or f"{self.ctx.server_url}/{self.ctx.repo}/commit/{sha}"
        body = {
            "state": state,
            "context": status.name,
            "description": status.description,
            "target_url": target,
        }
        path = f"{self.api.repo_path}/statuses/{sha}"
        self.api.call(
            "POST",
            path,
            what="create commit status",
            need="checks: write (or statuses: write)",
            body=body,
            idempotent=True,
        )
        return target


def _cut_note(dropped: int) -> str:
    return f"> [!NOTE]\n> Cut by {dropped:,} characters to fit GitHub's {_SUMMARY_MAX:,}-character check run summary."


def _comment(raw: Mapping[str, Any]) -> Comment:
    user = raw.get("user") or {}
    return Comment(
        id=str(raw["id"]), body=raw.get("body") or "", author=user.get("login", ""), url=raw["html_url"]
    )


def _login(data: Any, *, what: str) -> str:
    """The ``login`` of a user object; ForgeError when there is none."""
    login = data.get("login") if isinstance(data, dict) else None
    if not isinstance(login, str) or not login:
        raise ForgeError(f"{what} did not answer like GitHub's API (no login)")
    return login


def graphql_url(api_url: str) -> str:
    """GraphQL's endpoint: ``https://api.github.com/graphql``; GitHub Enterprise ``https://HOST/api/graphql``."""
    root = api_url.rstrip("/")
    return root.removesuffix("/v3") + "/graphql"


def create(ctx: CIContext, token: str, options: Mapping[str, str]) -> GitHubForge:
    """A GitHubForge on ``ctx.api_url`` with PyGithub's own throttling and retries off (ours apply).

    Every connection PyGithub opens sends through :mod:`cml.forges.transport`.
    """
    from github import Auth, Github

    from cml.forges import transport

    client = Github(
        base_url=ctx.api_url,
        auth=Auth.Token(token),
        seconds_between_requests=0,
        seconds_between_writes=0,
        retry=None,
        timeout=15,
        per_page=_PER_PAGE,
        lazy=True,
    )
    rules = transport.Rules(
        forge="GitHub",
        api_url=ctx.api_url,
        setting="GITHUB_API_URL",
        follows=frozenset({301}),  # PyGithub follows 301 alone, to the Location's path
        drops_query=True,
    )
    transport.guard_pygithub(client.requester, rules)
    client.get_repo(ctx.repo)  # lazy: no request, but checks the name's shape
    return GitHubForge(ctx, Api(ctx, client.requester), options.get("assets_branch") or "cml-assets")
