"""A stateful fake GitHub REST API on 127.0.0.1 (optionally under ``/api/v3``, like GitHub Enterprise).

It keeps users and tokens, repositories, PRs, issue and commit comments, git blobs/trees/commits/refs,
check runs and commit statuses, and answers with GitHub's paths, status codes, ``Link`` pagination
and error bodies. Token kinds behave like GitHub's: a user PAT may not create check runs, an Actions
installation token (``github-actions[bot]``) may not read ``/user``, a fork PR's read-only token may
not write. Faults come from :class:`tests.fakes.http.FakeServer`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from tests.fakes.http import FakeServer, Reply, Request

TokenKind = Literal["user", "installation", "readonly"]
_DOCS = "https://docs.github.com/rest"
_NOW = "2026-01-01T00:00:00Z"
_NO_INTEGRATION = "Resource not accessible by integration"
_PRIVATE = {"_issue", "_sha"}  # where the fake files a comment; never sent


@dataclass
class PR:
    number: int
    head_sha: str
    head_repo: str
    state: str = "open"
    base_ref: str = "main"
    head_ref: str = "feature"  # the head branch, in ``head_repo``


@dataclass
class Repo:
    full_name: str
    id: int
    prs: dict[int, PR] = field(default_factory=dict)
    issues: set[int] = field(default_factory=set)
    issue_comments: list[dict[str, Any]] = field(default_factory=list)
    commit_comments: list[dict[str, Any]] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, dict[str, str]] = field(default_factory=dict)  # sha -> {path: blob sha}
    commits: dict[str, dict[str, Any]] = field(default_factory=dict)  # sha -> {tree, parents, message}
    refs: dict[str, str] = field(default_factory=dict)  # "heads/main" -> sha
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    #: Branches a rule covers: branch -> "ruleset" or "classic" (branch protection); see ``protect``.
    protected: dict[str, str] = field(default_factory=dict)
    fork: bool = False  # a fork of another repository (its PRs go to the parent)


class FakeGitHub(FakeServer):
    """GitHub's REST API, enough of it for cml; see the module docstring."""

    def __init__(self, prefix: str = "") -> None:
        super().__init__()
        self.prefix = prefix
        self.tokens: dict[str, tuple[str, TokenKind]] = {}
        self.users: dict[str, int] = {}
        self.repos: dict[str, Repo] = {}
        self._ids = 1000
        self.exchanges: list[tuple[Request, Reply]] = []  # every routed request and its reply
        #: Rewrites the ``Link`` relations a page sends, ``(request, [(rel, url)]) -> [(rel, url)]``:
        #: a fault that points ``next`` at another host or back at a page already sent.
        self.rewrite_links: Callable[[Request, list[tuple[str, str]]], list[tuple[str, str]]] | None = None
        #: The fake's clock: when a comment is made or edited and a commit committed (ISO 8601, UTC).
        self.now = _NOW
        self._routes()

    # ---- state helpers -------------------------------------------------------------------------
    def next_id(self) -> int:
        self._ids += 1
        return self._ids

    def add_token(self, token: str, login: str, kind: TokenKind = "user") -> None:
        """Accept ``token`` as ``login``; an installation token without one is ``github-actions[bot]``.

        Give an app's installation token its bot login, e.g. ``acme-reports[bot]``.
        """
        if kind != "user" and not login:
            login = "github-actions[bot]"
        self.users.setdefault(login, self.next_id())
        self.tokens[token] = (login, kind)

    def add_repo(self, full_name: str, *, fork: bool = False) -> Repo:
        repo = Repo(full_name=full_name, id=self.next_id(), fork=fork)
        self.repos[full_name] = repo
        return repo

    def add_pr(
        self,
        full_name: str,
        number: int,
        head_sha: str,
        head_repo: str | None = None,
        head_ref: str = "feature",
    ) -> PR:
        """An open PR into ``full_name`` from branch ``head_ref`` of ``head_repo`` (a fork when another)."""
        repo = self.repos[full_name]
        pr = PR(number=number, head_sha=head_sha, head_repo=head_repo or full_name, head_ref=head_ref)
        repo.prs[number] = pr
        repo.issues.add(number)
        return pr

    def protect(self, full_name: str, branch: str, rule: Literal["ruleset", "classic"] = "ruleset") -> None:
        """Make ``branch`` refuse every ref update (and creation), as a ruleset or branch protection does."""
        self.repos[full_name].protected[branch] = rule

    def add_issue_comment(
        self, full_name: str, number: int, body: str, login: str, *, at: str | None = None
    ) -> dict[str, Any]:
        """Seed a comment as ``login``, made and last edited ``at`` (default: the clock; no request logged)."""
        self.users.setdefault(login, self.next_id())
        raw = self._new_comment(self.repos[full_name], body, login, issue=number)
        raw["created_at"] = raw["updated_at"] = at or self.now
        self.repos[full_name].issue_comments.append(raw)
        return raw

    def add_commit_comment(
        self, full_name: str, sha: str, body: str, login: str, *, at: str | None = None
    ) -> dict[str, Any]:
        """Seed a comment on commit ``sha`` as ``login``, made ``at`` (default: the clock)."""
        self.users.setdefault(login, self.next_id())
        raw = self._new_comment(self.repos[full_name], body, login, sha=sha)
        raw["created_at"] = raw["updated_at"] = at or self.now
        self.repos[full_name].commit_comments.append(raw)
        return raw

    @property
    def html_root(self) -> str:
        """What GITHUB_SERVER_URL is for this fake."""
        return self.root

    def writes(self) -> list[Request]:
        """Every request that was not a GET."""
        return [r for r in self.requests if r.method != "GET"]

    # ---- objects ---------------------------------------------------------------------------------
    def user(self, login: str) -> dict[str, Any]:
        uid = self.users.setdefault(login, self.next_id())
        api = f"{self.url}/users/{login}"
        bot = login.endswith("[bot]")
        return {
            "login": login,
            "id": uid,
            "node_id": f"U_{uid}",
            "avatar_url": f"{self.root}/avatars/{uid}",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.root}/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": "Bot" if bot else "User",
            "site_admin": False,
            "user_view_type": "public",
        }

    def _new_comment(
        self, repo: Repo, body: str, login: str, *, issue: int | None = None, sha: str = ""
    ) -> dict[str, Any]:
        cid = self.next_id()
        api = f"{self.url}/repos/{repo.full_name}"
        common = {
            "id": cid,
            "node_id": f"IC_{cid}",
            "body": body,
            "user": self.user(login),
            "created_at": self.now,
            "updated_at": self.now,
            "author_association": "OWNER" if login == repo.full_name.split("/")[0] else "NONE",
        }
        if issue is not None:
            kind = "pull" if issue in repo.prs else "issues"
            return {
                **common,
                "url": f"{api}/issues/comments/{cid}",
                "html_url": f"{self.root}/{repo.full_name}/{kind}/{issue}#issuecomment-{cid}",
                "issue_url": f"{api}/issues/{issue}",
                "_issue": issue,
            }
        return {
            **common,
            "url": f"{api}/comments/{cid}",
            "html_url": f"{self.root}/{repo.full_name}/commit/{sha}#commitcomment-{cid}",
            "path": None,
            "position": None,
            "line": None,
            "commit_id": sha,
            "_sha": sha,
        }

    @staticmethod
    def public(raw: dict[str, Any]) -> dict[str, Any]:
        """A stored object without the fake's own bookkeeping keys."""
        return {k: v for k, v in raw.items() if k not in _PRIVATE}

    def dispatch(self, req: Request) -> Reply:
        """Route ``req`` and remember the exchange (for the OpenAPI check)."""
        reply = super().dispatch(req)
        with self.lock:
            self.exchanges.append((req, reply))
        return reply

    def error(self, status: int, message: str, **extra: Any) -> Reply:
        """GitHub's error body."""
        return Reply(status, {"message": message, "documentation_url": _DOCS, **extra})

    # ---- auth and pagination ---------------------------------------------------------------------
    def auth(self, req: Request) -> tuple[str, TokenKind] | Reply:
        """The caller's (login, token kind), or the 401 reply."""
        header = req.headers.get("authorization", "")
        token = header.split(" ", 1)[1] if " " in header else ""
        found = self.tokens.get(token)
        return found if found else self.error(401, "Bad credentials")

    def page(self, req: Request, items: list[dict[str, Any]]) -> Reply:
        """One page of ``items`` (``per_page`` default 30, max 100) with a ``Link`` header."""
        per = min(int(req.arg("per_page", "30") or 30), 100)
        page = max(int(req.arg("page", "1") or 1), 1)
        last = max(math.ceil(len(items) / per), 1)
        chunk = items[(page - 1) * per : page * per]
        kept = urlencode([(k, v) for k, vs in req.query.items() if k not in ("per_page", "page") for v in vs])
        base = f"{self.url}{req.path}?{kept + '&' if kept else ''}per_page={per}&page="  # filters stay
        links: list[tuple[str, str]] = []
        if page < last:
            links += [("next", f"{base}{page + 1}"), ("last", f"{base}{last}")]
        if page > 1:
            links += [("prev", f"{base}{page - 1}"), ("first", f"{base}1")]
        if self.rewrite_links is not None:
            links = self.rewrite_links(req, links)
        rels = [f'<{url}>; rel="{rel}"' for rel, url in links]
        headers = {"Link": ", ".join(rels)} if rels else {}
        return Reply(200, [self.public(i) for i in chunk], headers)

    def _routes(self) -> None:
        from tests.fakes import github_routes, github_runners

        github_routes.register(self)
        #: Self-hosted runners, their tokens and the downloads list (see tests/fakes/github_runners.py).
        self.runners = github_runners.register(self)


def git_sha(kind: str, data: bytes) -> str:
    """Git's object id for ``data`` of ``kind`` (blob, tree, commit)."""
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


def tree_sha(entries: dict[str, str]) -> str:
    return git_sha("tree", json.dumps(sorted(entries.items())).encode())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
