"""The fake GitHub's routes: users, comments, PRs, git data, check runs and statuses."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tests.fakes.http import Reply, Request

if TYPE_CHECKING:
    from tests.fakes.github import FakeGitHub, Repo

_R = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
_SHA = r"(?P<sha>[0-9a-fA-F]{4,40})"


def register(fake: FakeGitHub) -> None:
    """Install every route on ``fake``."""
    from tests.fakes import github as gh

    def guarded(write: bool, fn: Callable[..., Reply]) -> Callable[..., Reply]:
        def handler(req: Request, owner: str = "", name: str = "", **kw: str) -> Reply:
            who = fake.auth(req)
            if isinstance(who, Reply):
                return who
            repo = fake.repos.get(f"{owner}/{name}")
            if repo is None:
                return fake.error(404, "Not Found")
            if write and who[1] == "readonly":
                return fake.error(403, gh._NO_INTEGRATION)
            return fn(req, repo, who[0], who[1], **kw)

        return handler

    def get_user(req: Request) -> Reply:
        who = fake.auth(req)
        if isinstance(who, Reply):
            return who
        if who[1] != "user":
            return fake.error(403, gh._NO_INTEGRATION)
        return Reply(200, private_user(fake, who[0]))

    def list_issue_comments(req: Request, repo: Repo, login: str, kind: str, number: str) -> Reply:
        if int(number) not in repo.issues:
            return fake.error(404, "Not Found")
        return fake.page(req, [c for c in repo.issue_comments if c["_issue"] == int(number)])

    def body_of(req: Request) -> str | Reply:
        data = req.json
        if not isinstance(data, dict) or not isinstance(data.get("body"), str):
            return fake.error(
                422,
                "Invalid request.",
                errors=[{"resource": "IssueComment", "code": "missing_field", "field": "body"}],
            )
        if len(data["body"]) > 65536:
            return fake.error(
                422,
                "Validation Failed",
                errors=[
                    {
                        "resource": "IssueComment",
                        "code": "custom",
                        "field": "body",
                        "message": "body is too long (maximum is 65536 characters)",
                    }
                ],
            )
        return str(data["body"])

    def create_issue_comment(req: Request, repo: Repo, login: str, kind: str, number: str) -> Reply:
        if int(number) not in repo.issues:
            return fake.error(404, "Not Found")
        body = body_of(req)
        if isinstance(body, Reply):
            return body
        raw = fake._new_comment(repo, body, login, issue=int(number))
        repo.issue_comments.append(raw)
        return Reply(201, fake.public(raw), {"Location": raw["url"]})

    def edit_in(attr: str) -> Callable[..., Reply]:
        def handler(req: Request, repo: Repo, login: str, kind: str, cid: str) -> Reply:
            found = next((c for c in getattr(repo, attr) if str(c["id"]) == cid), None)
            if found is None:
                return fake.error(404, "Not Found")
            if found["user"]["login"] != login:
                return fake.error(403, "You must be the author of this comment to edit it")
            body = body_of(req)
            if isinstance(body, Reply):
                return body
            found["body"] = body
            found["updated_at"] = "2026-01-01T00:00:01Z" if fake.now == gh._NOW else fake.now
            return Reply(200, fake.public(found))

        return handler

    def delete_in(attr: str) -> Callable[..., Reply]:
        """``DELETE .../comments/{id}``: 204, 404 once gone; anyone with write access may delete.

        docs.github.com/rest/issues/comments#delete-an-issue-comment, .../commits/comments#delete-a-commit-comment
        """

        def handler(req: Request, repo: Repo, login: str, kind: str, cid: str) -> Reply:
            found = next((c for c in getattr(repo, attr) if str(c["id"]) == cid), None)
            if found is None:
                return fake.error(404, "Not Found")
            getattr(repo, attr).remove(found)
            return Reply(204)

        return handler

    def repo_issue_comments(req: Request, repo: Repo, login: str, kind: str) -> Reply:
        """``GET /repos/{o}/{r}/issues/comments?sort=&direction=&since=``: every issue and PR comment.

        docs.github.com/rest/issues/comments#list-issue-comments-for-a-repository: ``sort`` is
        ``created`` (default) or ``updated``, ``direction`` ``asc`` or ``desc`` (ignored without
        ``sort``), ``since`` keeps comments "updated after the given time" (ISO 8601); others are 422.
        """
        sort, direction, since = req.arg("sort", "created"), req.arg("direction"), req.arg("since")
        if sort not in ("created", "updated") or direction not in (None, "asc", "desc"):
            return fake.error(
                422, "Validation Failed", errors=[{"resource": "IssueComment", "code": "invalid"}]
            )
        found = [c for c in repo.issue_comments if not since or stamp(c["updated_at"]) >= stamp(since)]
        found.sort(key=lambda c: (stamp(c[f"{sort}_at"]), c["id"]), reverse=direction == "desc")
        return fake.page(req, found)

    def repo_commit_comments(req: Request, repo: Repo, login: str, kind: str) -> Reply:
        """``GET /repos/{o}/{r}/comments``: every commit comment, oldest first, no filter
        (docs.github.com/rest/commits/comments#list-commit-comments-for-a-repository).
        """
        return fake.page(req, list(repo.commit_comments))

    def list_commit_comments(req: Request, repo: Repo, login: str, kind: str, sha: str) -> Reply:
        return fake.page(req, [c for c in repo.commit_comments if c["_sha"] == sha])

    def create_commit_comment(req: Request, repo: Repo, login: str, kind: str, sha: str) -> Reply:
        body = body_of(req)
        if isinstance(body, Reply):
            return body
        raw = fake._new_comment(repo, body, login, sha=sha)
        repo.commit_comments.append(raw)
        return Reply(201, fake.public(raw), {"Location": raw["url"]})

    def pulls_for_commit(req: Request, repo: Repo, login: str, kind: str, sha: str) -> Reply:
        """``GET commits/{sha}/pulls``: PRs whose head is ``sha`` -- not those from a fork.

        docs.github.com/rest/commits/commits#list-pull-requests-associated-with-a-commit lists the PRs
        "associated with the commit" in this repository; a commit that exists only in a fork is not
        found there (an empty list), so the fake leaves fork PRs out.
        """
        prs = [pr for pr in repo.prs.values() if pr.head_sha == sha and pr.head_repo == repo.full_name]
        return fake.page(req, [pull_simple(fake, repo, pr) for pr in prs])

    def list_pulls(req: Request, repo: Repo, login: str, kind: str) -> Reply:
        """``GET /repos/{o}/{r}/pulls?state=&head=&base=``, newest first.

        docs.github.com/rest/pulls/pulls#list-pull-requests: ``state`` is ``open`` (default),
        ``closed`` or ``all`` (anything else is 422); ``head`` filters "by head user or head
        organization and branch name in the format of ``user:ref-name``". A ``head`` without the
        ``user:`` part is not applied at all by GitHub (every PR is listed), and so not here.
        """
        state = req.arg("state", "open") or "open"
        if state not in ("open", "closed", "all"):
            return fake.error(
                422, "Validation Failed", errors=[{"resource": "Issue", "field": "state", "code": "invalid"}]
            )
        prs = [pr for pr in repo.prs.values() if state in ("all", pr.state)]
        head, base = req.arg("head"), req.arg("base")
        if head and ":" in head:
            owner, _, ref = head.partition(":")
            prs = [
                pr for pr in prs if pr.head_repo.split("/")[0].lower() == owner.lower() and pr.head_ref == ref
            ]
        if base:
            prs = [pr for pr in prs if pr.base_ref == base]
        prs.sort(key=lambda pr: pr.number, reverse=req.arg("direction", "desc") != "asc")
        return fake.page(req, [pull_simple(fake, repo, pr) for pr in prs])

    def graphql(req: Request) -> Reply:
        """``POST /graphql`` (GHES: ``/api/graphql``), enough for ``query { viewer { login } }``.

        ``viewer`` is "the currently authenticated user" (docs.github.com/graphql/reference/queries);
        for an app installation token it is the app's bot, ``<app-slug>[bot]``, as on its comments.
        """
        who = fake.auth(req)
        if isinstance(who, Reply):
            return who
        query = str((req.json or {}).get("query", "")) if isinstance(req.json, dict) else ""
        if "viewer" not in query or "login" not in query:
            return Reply(200, {"errors": [{"message": "the fake GitHub only answers viewer { login }"}]})
        return Reply(200, {"data": {"viewer": {"login": who[0]}}})

    fake.route("GET", "/user", get_user)
    fake.route("POST", "/api/graphql" if fake.prefix == "/api/v3" else "/graphql", graphql)
    fake.route("GET", f"{_R}/issues/comments", guarded(False, repo_issue_comments))
    fake.route("GET", f"{_R}/comments", guarded(False, repo_commit_comments))
    fake.route("GET", f"{_R}/issues/(?P<number>[0-9]+)/comments", guarded(False, list_issue_comments))
    fake.route("POST", f"{_R}/issues/(?P<number>[0-9]+)/comments", guarded(True, create_issue_comment))
    fake.route("PATCH", f"{_R}/issues/comments/(?P<cid>[0-9]+)", guarded(True, edit_in("issue_comments")))
    fake.route("DELETE", f"{_R}/issues/comments/(?P<cid>[0-9]+)", guarded(True, delete_in("issue_comments")))
    fake.route("GET", f"{_R}/commits/{_SHA}/comments", guarded(False, list_commit_comments))
    fake.route("POST", f"{_R}/commits/{_SHA}/comments", guarded(True, create_commit_comment))
    fake.route("PATCH", f"{_R}/comments/(?P<cid>[0-9]+)", guarded(True, edit_in("commit_comments")))
    fake.route("DELETE", f"{_R}/comments/(?P<cid>[0-9]+)", guarded(True, delete_in("commit_comments")))
    fake.route("GET", f"{_R}/commits/{_SHA}/pulls", guarded(False, pulls_for_commit))
    fake.route("GET", f"{_R}/pulls", guarded(False, list_pulls))
    _git_routes(fake, guarded)
    _check_routes(fake, guarded)


def _git_routes(
    fake: FakeGitHub, guarded: Callable[[bool, Callable[..., Reply]], Callable[..., Reply]]
) -> None:
    from tests.fakes.github import git_sha, tree_sha

    def ref_obj(repo: Repo, ref: str) -> dict[str, Any]:
        sha = repo.refs[ref]
        api = f"{fake.url}/repos/{repo.full_name}/git"
        return {
            "ref": f"refs/{ref}",
            "node_id": f"REF_{abs(hash(ref)) % 10**8}",
            "url": f"{api}/refs/{ref}",
            "object": {"type": "commit", "sha": sha, "url": f"{api}/commits/{sha}"},
        }

    def get_ref(req: Request, repo: Repo, login: str, kind: str, ref: str) -> Reply:
        if ref not in repo.refs:
            return fake.error(404, "Not Found")
        return Reply(200, ref_obj(repo, ref))

    def refused(repo: Repo, ref: str, creating: bool) -> Reply | None:
        """A protected branch's refusal: 422 with GitHub's words for a ruleset or a classic rule.

        docs.github.com/rest/git/refs#update-a-reference documents 422 (and 409 for an empty
        repository); a ruleset answers "Repository rule violations found" with one line per rule.
        """
        rule = repo.protected.get(ref.removeprefix("heads/")) if ref.startswith("heads/") else None
        if rule is None:
            return None
        if rule == "classic":
            return fake.error(422, f"Protected branch update failed for refs/{ref}.")
        why = (
            "Cannot create ref due to creations being restricted."
            if creating
            else "Cannot update this protected ref."
        )
        return fake.error(422, f"Repository rule violations found\n\n{why}\n\n")

    def create_ref(req: Request, repo: Repo, login: str, kind: str) -> Reply:
        data = req.json or {}
        ref, sha = str(data.get("ref", "")), str(data.get("sha", ""))
        if not ref.startswith("refs/") or ref.count("/") < 2:
            return fake.error(422, "Reference name is invalid")
        if (no := refused(repo, ref[5:], creating=True)) is not None:
            return no
        if sha not in repo.commits:
            return fake.error(422, "Object does not exist")
        if ref[5:] in repo.refs:
            return fake.error(422, "Reference already exists")
        repo.refs[ref[5:]] = sha
        return Reply(201, ref_obj(repo, ref[5:]))

    def ancestors(repo: Repo, sha: str) -> set[str]:
        seen, todo = set(), [sha]
        while todo:
            cur = todo.pop()
            if cur not in seen and cur in repo.commits:
                seen.add(cur)
                todo.extend(repo.commits[cur]["parents"])
        return seen

    def update_ref(req: Request, repo: Repo, login: str, kind: str, ref: str) -> Reply:
        data = req.json or {}
        sha = str(data.get("sha", ""))
        if ref not in repo.refs:
            return fake.error(422, "Reference does not exist")
        if sha not in repo.commits:
            return fake.error(422, "Object does not exist")
        if (no := refused(repo, ref, creating=False)) is not None:
            return no
        if not data.get("force") and repo.refs[ref] not in ancestors(repo, sha):
            return fake.error(422, "Update is not a fast forward")
        repo.refs[ref] = sha
        return Reply(200, ref_obj(repo, ref))

    def delete_ref(req: Request, repo: Repo, login: str, kind: str, ref: str) -> Reply:
        """``DELETE git/refs/{ref}``: 204; 422 "Reference does not exist" when it is not there
        (docs.github.com/rest/git/refs#delete-a-reference); a protected branch refuses.
        """
        if ref not in repo.refs:
            return fake.error(422, "Reference does not exist")
        if (no := refused(repo, ref, creating=False)) is not None:
            return no
        del repo.refs[ref]
        return Reply(204)

    def create_blob(req: Request, repo: Repo, login: str, kind: str) -> Reply:
        data = req.json or {}
        try:
            raw = (
                base64.b64decode(data["content"], validate=True)
                if data.get("encoding") == "base64"
                else str(data["content"]).encode()
            )
        except (KeyError, binascii.Error):
            return fake.error(422, "Invalid request.")
        sha = git_sha("blob", raw)
        repo.blobs[sha] = raw
        return Reply(201, {"sha": sha, "url": f"{fake.url}/repos/{repo.full_name}/git/blobs/{sha}"})

    def get_blob(req: Request, repo: Repo, login: str, kind: str, sha: str) -> Reply:
        if sha not in repo.blobs:
            return fake.error(404, "Not Found")
        raw = repo.blobs[sha]
        return Reply(
            200,
            {
                "sha": sha,
                "node_id": f"B_{sha[:8]}",
                "size": len(raw),
                "url": f"{fake.url}/repos/{repo.full_name}/git/blobs/{sha}",
                "content": base64.b64encode(raw).decode(),
                "encoding": "base64",
            },
        )

    def tree_obj(repo: Repo, sha: str) -> dict[str, Any]:
        api = f"{fake.url}/repos/{repo.full_name}/git"
        entries = [
            {
                "path": p,
                "mode": "100644",
                "type": "blob",
                "sha": b,
                "size": len(repo.blobs.get(b, b"")),
                "url": f"{api}/blobs/{b}",
            }
            for p, b in sorted(repo.trees[sha].items())
        ]
        return {"sha": sha, "url": f"{api}/trees/{sha}", "tree": entries, "truncated": False}

    def create_tree(req: Request, repo: Repo, login: str, kind: str) -> Reply:
        data = req.json or {}
        base = data.get("base_tree")
        # "base_tree: The SHA1 of an existing Git tree object" (docs.github.com/rest/git/trees#create-a-tree):
        # a commit sha is refused, as a forge holding to the contract does (GHES, proxies).
        if base and base not in repo.trees:
            return fake.error(422, "base_tree is not a valid tree oid")
        entries = dict(repo.trees[base]) if base else {}
        for entry in data.get("tree", []):
            if entry.get("sha") not in repo.blobs:
                return fake.error(422, "tree.sha is not a valid blob oid")
            entries[entry["path"]] = entry["sha"]
        sha = tree_sha(entries)
        repo.trees[sha] = entries
        return Reply(201, tree_obj(repo, sha))

    def get_tree(req: Request, repo: Repo, login: str, kind: str, sha: str) -> Reply:
        sha = repo.commits[sha]["tree"] if sha in repo.commits else sha
        if sha not in repo.trees:
            return fake.error(404, "Not Found")
        return Reply(200, tree_obj(repo, sha))

    def commit_obj(repo: Repo, sha: str) -> dict[str, Any]:
        c = repo.commits[sha]
        api = f"{fake.url}/repos/{repo.full_name}/git"
        person = {"name": "cml", "email": "cml@example.com", "date": c["date"]}
        return {
            "sha": sha, "node_id": f"C_{sha[:8]}", "url": f"{api}/commits/{sha}",
            "html_url": f"{fake.root}/{repo.full_name}/commit/{sha}", "author": person, "committer": person,
            "message": c["message"], "tree": {"sha": c["tree"], "url": f"{api}/trees/{c['tree']}"},
            "parents": [{"sha": p, "url": f"{api}/commits/{p}", "html_url": f"{fake.root}/{repo.full_name}/commit/{p}"} for p in c["parents"]],
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None, "verified_at": None},
        }  # fmt: skip

    def create_commit(req: Request, repo: Repo, login: str, kind: str) -> Reply:
        data = req.json or {}
        tree, parents = data.get("tree"), list(data.get("parents") or [])
        if tree not in repo.trees or any(p not in repo.commits for p in parents):
            return fake.error(
                422, "Tree SHA does not exist" if tree not in repo.trees else "Parent SHA does not exist"
            )
        payload = json.dumps([tree, parents, data.get("message"), len(repo.commits)]).encode()
        sha = git_sha("commit", payload)
        repo.commits[sha] = {"tree": tree, "parents": parents, "message": str(data.get("message", ""))}
        repo.commits[sha]["date"] = fake.now  # committed now, as GitHub does without a committer date
        repo.commits[sha]["login"] = login
        return Reply(201, commit_obj(repo, sha))

    def list_commits(req: Request, repo: Repo, login: str, kind: str) -> Reply:
        """``GET /repos/{o}/{r}/commits?sha=&since=&until=``: the commits reachable from ``sha`` (a
        branch or a commit sha; default ``main``), newest first, "only commits before" ``until`` and
        after ``since`` (docs.github.com/rest/commits/commits#list-commits); 404 for an unknown start.
        """
        start = req.arg("sha") or "main"
        head = repo.refs.get(f"heads/{start}", start)
        if head not in repo.commits:
            return fake.error(404, "Not Found")
        since, until = req.arg("since"), req.arg("until")
        found = [
            sha for sha in ancestors(repo, head)
            if (not until or stamp(repo.commits[sha]["date"]) < stamp(until))
            and (not since or stamp(repo.commits[sha]["date"]) >= stamp(since))
        ]  # fmt: skip
        found.sort(key=lambda sha: stamp(repo.commits[sha]["date"]), reverse=True)
        return fake.page(req, [listed_commit(repo, sha) for sha in found])

    def listed_commit(repo: Repo, sha: str) -> dict[str, Any]:
        """A commit as ``GET commits`` lists it (the ``commit`` schema)."""
        git = commit_obj(repo, sha)
        api, html = f"{fake.url}/repos/{repo.full_name}", f"{fake.root}/{repo.full_name}"
        inner = {k: git[k] for k in ("author", "committer", "message", "tree", "verification")}
        who = fake.user(repo.commits[sha].get("login", "web-flow"))  # the token's user made it
        return {
            "url": f"{api}/commits/{sha}", "sha": sha, "node_id": git["node_id"], "html_url": f"{html}/commit/{sha}",
            "comments_url": f"{api}/commits/{sha}/comments", "author": who, "committer": who,
            "commit": {**inner, "url": git["url"], "comment_count": 0},
            "parents": [{"sha": p["sha"], "url": p["url"], "html_url": p["html_url"]} for p in git["parents"]],
        }  # fmt: skip

    def get_commit(req: Request, repo: Repo, login: str, kind: str, sha: str) -> Reply:
        return Reply(200, commit_obj(repo, sha)) if sha in repo.commits else fake.error(404, "Not Found")

    fake.route("GET", f"{_R}/git/ref/(?P<ref>.+)", guarded(False, get_ref))
    fake.route("POST", f"{_R}/git/refs", guarded(True, create_ref))
    fake.route("PATCH", f"{_R}/git/refs/(?P<ref>.+)", guarded(True, update_ref))
    fake.route("DELETE", f"{_R}/git/refs/(?P<ref>.+)", guarded(True, delete_ref))
    fake.route("POST", f"{_R}/git/blobs", guarded(True, create_blob))
    fake.route("GET", f"{_R}/git/blobs/{_SHA}", guarded(False, get_blob))
    fake.route("POST", f"{_R}/git/trees", guarded(True, create_tree))
    fake.route("GET", f"{_R}/git/trees/{_SHA}", guarded(False, get_tree))
    fake.route("POST", f"{_R}/git/commits", guarded(True, create_commit))
    fake.route("GET", f"{_R}/git/commits/{_SHA}", guarded(False, get_commit))
    fake.route("GET", f"{_R}/commits", guarded(False, list_commits))


def _check_routes(
    fake: FakeGitHub, guarded: Callable[[bool, Callable[..., Reply]], Callable[..., Reply]]
) -> None:
    def create_check_run(req: Request, repo: Repo, login: str, kind: str) -> Reply:
        if kind != "installation":
            return fake.error(403, "You must authenticate via a GitHub App.")
        data = req.json or {}
        if not data.get("name") or not data.get("head_sha"):
            return fake.error(422, "Invalid request.", errors=["name and head_sha are required"])
        summary = ((data.get("output") or {}).get("summary")) or ""
        if len(summary) > 65535:
            return fake.error(
                422, "Invalid request.", errors=["output.summary is too long (maximum is 65535 characters)"]
            )
        rid = fake.next_id()
        run = {**data, "id": rid, "html_url": f"{fake.root}/{repo.full_name}/runs/{rid}"}
        repo.check_runs.append(run)
        return Reply(201, check_run_obj(fake, repo, run))

    def create_status(req: Request, repo: Repo, login: str, kind: str, sha: str) -> Reply:
        data = req.json or {}
        if data.get("state") not in ("error", "failure", "pending", "success"):
            return fake.error(
                422, "Validation Failed", errors=[{"resource": "Status", "code": "custom", "field": "state"}]
            )
        if len(data.get("description") or "") > 140:
            return fake.error(
                422,
                "Validation Failed",
                errors=[
                    {
                        "resource": "Status",
                        "code": "custom",
                        "field": "description",
                        "message": "description is too long (maximum is 140 characters)",
                    }
                ],
            )
        sid = fake.next_id()
        status = {**data, "sha": sha, "id": sid}
        repo.statuses.append(status)
        return Reply(201, status_obj(fake, repo, status, login))

    fake.route("POST", f"{_R}/check-runs", guarded(True, create_check_run))
    fake.route("POST", f"{_R}/statuses/{_SHA}", guarded(True, create_status))


def stamp(text: str) -> datetime:
    """An ISO 8601 time as GitHub parses ``since`` (``Z`` or an offset)."""
    return datetime.fromisoformat(text)


def private_user(fake: FakeGitHub, login: str) -> dict[str, Any]:
    """``GET /user`` for a user token."""
    return {
        **fake.user(login), "user_view_type": "private", "name": login.title(), "company": None, "blog": "", "location": None,
        "email": None, "hireable": None, "bio": None, "twitter_username": None, "public_repos": 1,
        "public_gists": 0, "followers": 0, "following": 0, "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z", "private_gists": 0, "total_private_repos": 0,
        "owned_private_repos": 0, "disk_usage": 0, "collaborators": 0, "two_factor_authentication": True,
        "plan": {"collaborators": 0, "name": "pro", "space": 976562499, "private_repos": 9999},
    }  # fmt: skip


def repository(fake: FakeGitHub, repo: Repo) -> dict[str, Any]:
    """A full repository object."""
    owner = repo.full_name.split("/")[0]
    api = f"{fake.url}/repos/{repo.full_name}"
    urls = {
        f"{k}_url": f"{api}/{k}" + t
        for k, t in [
            ("archive", "/{archive_format}{/ref}"), ("assignees", "{/user}"), ("blobs", "{/sha}"),
            ("branches", "{/branch}"), ("collaborators", "{/collaborator}"), ("comments", "{/number}"),
            ("commits", "{/sha}"), ("compare", "/{base}...{head}"), ("contents", "/{+path}"),
            ("contributors", ""), ("deployments", ""), ("downloads", ""), ("events", ""), ("forks", ""),
            ("git_commits", "{/sha}"), ("git_refs", "{/sha}"), ("git_tags", "{/sha}"),
            ("issue_comment", "{/number}"), ("issue_events", "{/number}"), ("issues", "{/number}"),
            ("keys", "{/key_id}"), ("labels", "{/name}"), ("languages", ""), ("merges", ""),
            ("milestones", "{/number}"), ("notifications", "{?since,all,participating}"), ("pulls", "{/number}"),
            ("releases", "{/id}"), ("stargazers", ""), ("statuses", "/{sha}"), ("subscribers", ""),
            ("subscription", ""), ("tags", ""), ("teams", ""), ("trees", "{/sha}"), ("hooks", ""),
        ]
    }  # fmt: skip
    return {
        "id": repo.id, "node_id": f"R_{repo.id}", "name": repo.full_name.split("/")[1],
        "full_name": repo.full_name, "owner": fake.user(owner), "private": True,
        "html_url": f"{fake.root}/{repo.full_name}", "description": None, "fork": repo.fork, "url": api, **urls,
        "git_url": f"git://127.0.0.1/{repo.full_name}.git", "ssh_url": f"git@127.0.0.1:{repo.full_name}.git",
        "clone_url": f"{fake.root}/{repo.full_name}.git", "svn_url": f"{fake.root}/{repo.full_name}",
        "mirror_url": None, "homepage": None, "language": "Python", "forks_count": 0, "stargazers_count": 0,
        "watchers_count": 0, "size": 1, "default_branch": "main", "open_issues_count": len(repo.issues),
        "is_template": False, "topics": [], "has_issues": True, "has_projects": False, "has_wiki": False,
        "has_pages": False, "has_downloads": True, "has_discussions": False, "archived": False, "disabled": False,
        "visibility": "private", "pushed_at": _NOW_, "created_at": _NOW_, "updated_at": _NOW_,
        "allow_forking": True, "forks": 0, "open_issues": len(repo.issues), "watchers": 0, "license": None,
    }  # fmt: skip


_NOW_ = "2026-01-01T00:00:00Z"


def pull_simple(fake: FakeGitHub, repo: Repo, pr: Any) -> dict[str, Any]:
    """A PR as ``GET commits/{sha}/pulls`` and ``GET pulls`` list it (pull-request-simple)."""
    api = f"{fake.url}/repos/{repo.full_name}"
    html = f"{fake.root}/{repo.full_name}/pull/{pr.number}"
    owner = fake.user(repo.full_name.split("/")[0])
    head_repo = fake.repos.get(pr.head_repo) or repo

    def side(ref: str, sha: str, where: Repo) -> dict[str, Any]:
        return {
            "label": f"{where.full_name.split('/')[0]}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": fake.user(where.full_name.split("/")[0]),
            "repo": repository(fake, where),
        }

    links = {k: {"href": v} for k, v in {
        "self": f"{api}/pulls/{pr.number}", "html": html, "issue": f"{api}/issues/{pr.number}",
        "comments": f"{api}/issues/{pr.number}/comments", "review_comments": f"{api}/pulls/{pr.number}/comments",
        "review_comment": f"{api}/pulls/comments{{/number}}", "commits": f"{api}/pulls/{pr.number}/commits",
        "statuses": f"{api}/statuses/{pr.head_sha}",
    }.items()}  # fmt: skip
    return {
        "url": f"{api}/pulls/{pr.number}", "id": pr.number + 7_000_000, "node_id": f"PR_{pr.number}",
        "html_url": html, "diff_url": f"{html}.diff", "patch_url": f"{html}.patch",
        "issue_url": f"{api}/issues/{pr.number}", "commits_url": f"{api}/pulls/{pr.number}/commits",
        "review_comments_url": f"{api}/pulls/{pr.number}/comments", "review_comment_url": f"{api}/pulls/comments{{/number}}",
        "comments_url": f"{api}/issues/{pr.number}/comments", "statuses_url": f"{api}/statuses/{pr.head_sha}",
        "number": pr.number, "state": pr.state, "locked": False, "title": f"PR {pr.number}", "user": owner,
        "body": None, "labels": [], "milestone": None, "active_lock_reason": None, "created_at": _NOW_,
        "updated_at": _NOW_, "closed_at": None, "merged_at": None, "merge_commit_sha": None, "assignee": None,
        "assignees": [], "requested_reviewers": [], "requested_teams": [], "head": side(pr.head_ref, pr.head_sha, head_repo),
        "base": side(pr.base_ref, "0" * 40, repo), "_links": links, "author_association": "OWNER",
        "auto_merge": None, "draft": False,
    }  # fmt: skip


def check_run_obj(fake: FakeGitHub, repo: Repo, run: dict[str, Any]) -> dict[str, Any]:
    """A check run as ``POST check-runs`` answers."""
    api = f"{fake.url}/repos/{repo.full_name}"
    output = run.get("output") or {}
    return {
        "id": run["id"], "head_sha": run["head_sha"], "node_id": f"CR_{run['id']}", "external_id": None,
        "url": f"{api}/check-runs/{run['id']}", "html_url": run["html_url"], "details_url": run.get("details_url"),
        "status": run.get("status", "queued"), "conclusion": run.get("conclusion"), "started_at": _NOW_,
        "completed_at": _NOW_, "name": run["name"],
        "output": {"title": output.get("title"), "summary": output.get("summary"), "text": None,
                   "annotations_count": 0, "annotations_url": f"{api}/check-runs/{run['id']}/annotations"},
        "check_suite": {"id": run["id"] + 1}, "app": None, "pull_requests": [],
    }  # fmt: skip


def status_obj(fake: FakeGitHub, repo: Repo, status: dict[str, Any], login: str) -> dict[str, Any]:
    """A commit status as ``POST statuses/{sha}`` answers."""
    return {
        "url": f"{fake.url}/repos/{repo.full_name}/statuses/{status['sha']}", "avatar_url": None,
        "id": status["id"], "node_id": f"SC_{status['id']}", "state": status["state"],
        "description": status.get("description"), "target_url": status.get("target_url"),
        "context": status.get("context", "default"), "created_at": _NOW_, "updated_at": _NOW_,
        "creator": fake.user(login),
    }  # fmt: skip
