"""A stateful fake GitLab REST API (v4), served under a subpath like a self-managed instance.

It keeps users and their tokens, projects (reachable by id or URL-encoded path), merge requests,
notes on MRs and issues, commit discussions, uploads and commit statuses. Paths, status codes,
error bodies and pagination headers (``Link``, ``X-Page``, ``X-Next-Page``, ``X-Total``...) follow
docs.gitlab.com/api. Tokens: ``PRIVATE-TOKEN`` (or ``Authorization: Bearer``); a ``JOB-TOKEN`` is
refused on notes with 403, as GitLab does.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import mimetypes
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote, urlencode

from tests.fakes.http import FakeServer, Reply, Request

_P = r"/api/v4/projects/(?P<pid>[^/]+)"
_NOW = "2026-11-28T04:00:00.000Z"


@dataclass
class Project:
    """One project and everything stored on it."""

    id: int
    path: str
    web_url: str
    commits: set[str] = field(default_factory=set)
    mrs: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    discussions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    #: When each commit was made (ISO 8601); a commit without one was made at the fake's ``now``.
    commit_dates: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class FakeGitLab(FakeServer):
    """GitLab under ``/gitlab``: ``url`` is the instance root, ``api`` the ``/api/v4`` base."""

    prefix = "/gitlab"

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, tuple[dict[str, Any], set[str]]] = {}
        self.job_tokens: set[str] = set()
        self.projects: dict[int, Project] = {}
        self._ids = itertools.count(1000)
        #: The instance's configured ``external_url``, used in ``Link`` headers (None: the URL it is reached at).
        self.external_url: str | None = None
        #: The GitLab version whose uploads API the fake serves (download by secret came in 17.4).
        self.uploads_api: tuple[int, int] = (17, 4)
        #: The fake's clock: when notes are made or edited and files uploaded (ISO 8601).
        self.now = _NOW
        #: Features turned off on every project (``"issues"``, ``"merge_requests"``): their listings are 403.
        self.features_off: set[str] = set()
        #: Users whose role on every project is below Maintainer (the uploads list and delete refuse them).
        self.below_maintainer: set[str] = set()
        for method, pattern, fn in (
            ("GET", r"/api/v4/user", self._user),
            ("GET", _P, self._project),
            ("GET", _P + r"/merge_requests/(?P<iid>\d+)/notes", self._list_notes),
            ("POST", _P + r"/merge_requests/(?P<iid>\d+)/notes", self._create_note),
            ("PUT", _P + r"/merge_requests/(?P<iid>\d+)/notes/(?P<nid>\d+)", self._update_note),
            ("DELETE", _P + r"/merge_requests/(?P<iid>\d+)/notes/(?P<nid>\d+)", self._delete_note),
            ("DELETE", _P + r"/issues/(?P<iid>\d+)/notes/(?P<nid>\d+)", self._delete_note),
            (
                "DELETE",
                _P + r"/repository/commits/(?P<sha>\w+)/discussions/(?P<did>\w+)/notes/(?P<nid>\d+)",
                self._delete_discussion_note,
            ),
            ("GET", _P + r"/issues/(?P<iid>\d+)/notes", self._list_notes),
            ("POST", _P + r"/issues/(?P<iid>\d+)/notes", self._create_note),
            ("PUT", _P + r"/issues/(?P<iid>\d+)/notes/(?P<nid>\d+)", self._update_note),
            ("GET", _P + r"/repository/commits/(?P<sha>\w+)/merge_requests", self._mrs_for_commit),
            ("GET", _P + r"/repository/commits/(?P<sha>\w+)/discussions", self._list_discussions),
            ("POST", _P + r"/repository/commits/(?P<sha>\w+)/discussions", self._create_discussion),
            (
                "PUT",
                _P + r"/repository/commits/(?P<sha>\w+)/discussions/(?P<did>\w+)/notes/(?P<nid>\d+)",
                self._update_discussion_note,
            ),
            ("POST", _P + r"/uploads", self._upload),
            ("GET", _P + r"/uploads", self._list_uploads),
            ("DELETE", _P + r"/uploads/(?P<uid>\d+)", self._delete_upload),
            ("GET", _P + r"/merge_requests", self._list_mrs),
            ("GET", _P + r"/issues", self._list_issues),
            ("GET", _P + r"/repository/commits", self._list_commits),
            ("GET", _P + r"/uploads/(?P<secret>[0-9a-f]{32})/(?P<filename>[^/]+)", self._download),
            ("POST", _P + r"/statuses/(?P<sha>\w+)", self._set_status),
            ("GET", _P + r"/repository/commits/(?P<sha>\w+)/statuses", self._list_statuses),
        ):
            self.route(method, pattern, self._authed(fn))
        from tests.fakes import gitlab_runners

        #: Runners created with glrt- tokens, groups (see tests/fakes/gitlab_runners.py).
        self.runners = gitlab_runners.register(self)

    # ---- set-up -------------------------------------------------------------------------------
    @property
    def api(self) -> str:
        """``http://127.0.0.1:PORT/gitlab/api/v4``."""
        return f"{self.url}/api/v4"

    def add_user(
        self, username: str, token: str, *, scopes: tuple[str, ...] = ("api",), bot: bool = False
    ) -> None:
        """A user and a personal/project access token of theirs."""
        user = {"id": next(self._ids), "username": username, "name": username.title(), "state": "active"}
        user.update(bot=bot, avatar_url=None, web_url=f"{self.url}/{username}")
        self.tokens[token] = (user, set(scopes))

    def revoke(self, token: str) -> None:
        """Make ``token`` answer 401 from now on."""
        del self.tokens[token]

    def add_project(self, path: str, project_id: int = 42) -> Project:
        """A project at ``path`` (``group/name``)."""
        project = Project(id=project_id, path=path, web_url=f"{self.url}/{path}")
        self.projects[project_id] = project
        return project

    def add_mr(
        self,
        project: Project,
        iid: int,
        sha: str,
        *,
        state: str = "opened",
        source: Project | None = None,
        source_branch: str = "feature",
    ) -> dict[str, Any]:
        """A merge request into ``project`` whose head is ``sha``, from ``source`` (a fork) or ``project``.

        The MR lives in the target project; so does its head commit, which GitLab fetches from a fork
        into the target's ``refs/merge-requests/:iid/head`` (docs.gitlab.com/user/project/merge_requests,
        "Merge request refs"). A fork holds the commit too, so a write sent there would land.
        """
        project.commits.add(sha)
        if source is not None:
            source.commits.add(sha)
        mr = {"id": next(self._ids), "iid": iid, "project_id": project.id, "title": f"MR {iid}"}
        mr.update(
            state=state, sha=sha, web_url=f"{project.web_url}/-/merge_requests/{iid}", created_at=self.now
        )
        mr.update(source_project_id=(source or project).id, target_project_id=project.id)
        mr.update(source_branch=source_branch, target_branch="main")
        project.mrs[iid] = mr
        return mr

    def add_note(
        self, project: Project, noun: str, iid: int, body: str, username: str, *, system: bool = False
    ) -> dict[str, Any]:
        """Store a note on an MR (``merge_requests``) or issue (``issues``) as ``username``."""
        author = next((u for u, _ in self.tokens.values() if u["username"] == username), None)
        note = self._note(author or {"id": 1, "username": username}, body, noun, iid, system=system)
        project.notes.setdefault((noun, iid), []).append(note)
        return note

    def notes(self, project: Project, noun: str, iid: int) -> list[dict[str, Any]]:
        """The notes stored on an MR or issue, oldest first."""
        return project.notes.get((noun, iid), [])

    # ---- plumbing -----------------------------------------------------------------------------
    def error(self, status: int, message: str, **extra: Any) -> Reply:
        """GitLab's error body: ``{"message": "404 Project Not Found"}``."""
        return Reply(status, {"message": message, **extra})

    def _authed(self, fn: Any) -> Any:
        def handler(req: Request, **kw: str) -> Reply:
            token = req.headers.get("private-token") or req.headers.get("authorization", "").removeprefix(
                "Bearer "
            )
            if req.headers.get("job-token") and not token:
                if "/notes" in req.path or "/discussions" in req.path:
                    return Reply(403, {"message": "403 Forbidden"})
                return self.error(401, "401 Unauthorized")
            if token not in self.tokens:
                return self.error(401, "401 Unauthorized")
            user, scopes = self.tokens[token]
            if req.method != "GET" and "api" not in scopes:
                return Reply(
                    403,
                    {
                        "error": "insufficient_scope",
                        "scope": "api",
                        "error_description": "The request requires higher privileges than provided by the access token.",
                    },
                )
            if "pid" in kw:
                project = self._find(kw.pop("pid"))
                if project is None:
                    return self.error(404, "404 Project Not Found")
                return fn(req, user, project, **kw)  # type: ignore[no-any-return]
            return fn(req, user, **kw)  # type: ignore[no-any-return]

        return handler

    def _find(self, pid: str) -> Project | None:
        key = unquote(pid)
        for project in self.projects.values():
            if key in (str(project.id), project.path):
                return project
        return None

    def _page(self, req: Request, items: list[Any]) -> Reply:
        """One page of ``items`` with GitLab's offset-pagination headers."""
        try:
            page = max(1, int(req.arg("page") or 1))
            per_page = min(100, max(1, int(req.arg("per_page") or 20)))
        except ValueError:
            return Reply(400, {"error": "page is invalid"})
        pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(items))}
        headers.update({"X-Total-Pages": str(pages), "X-Next-Page": "", "X-Prev-Page": ""})
        query = {k: v[0] for k, v in req.query.items() if k not in ("page", "per_page")}

        def link(n: int, rel: str) -> str:
            return f'<{self.external_url or self.url}{req.path}?{urlencode({**query, "page": n, "per_page": per_page})}>; rel="{rel}"'

        links = [link(1, "first"), link(pages, "last")]
        if page < pages:
            headers["X-Next-Page"] = str(page + 1)
            links.insert(0, link(page + 1, "next"))
        if page > 1:
            headers["X-Prev-Page"] = str(page - 1)
            links.insert(0, link(page - 1, "prev"))
        headers["Link"] = ", ".join(links)
        return Reply(200, chunk, headers)

    def _note(
        self, user: dict[str, Any], body: str, noun: str, iid: int | str, *, system: bool = False
    ) -> dict[str, Any]:
        kind = {"merge_requests": "MergeRequest", "issues": "Issue", "commit": "Commit"}[noun]
        note = {"id": next(self._ids), "type": None, "body": body, "attachment": None, "author": dict(user)}
        note.update(
            created_at=self.now, updated_at=self.now, system=system, noteable_type=kind, resolvable=False
        )
        note.update(confidential=False, internal=False, noteable_iid=iid if noun != "commit" else None)
        return note

    @staticmethod
    def _body(req: Request) -> str | None:
        data = req.json
        return data.get("body") if isinstance(data, dict) else None

    # ---- routes -------------------------------------------------------------------------------
    def _user(self, req: Request, user: dict[str, Any]) -> Reply:
        return Reply(200, user)

    def _project(self, req: Request, user: dict[str, Any], project: Project) -> Reply:
        return Reply(
            200,
            {
                "id": project.id,
                "path_with_namespace": project.path,
                "web_url": project.web_url,
                "name": project.path.rsplit("/", 1)[-1],
                "default_branch": "main",
            },
        )

    @staticmethod
    def _noun(req: Request) -> str:
        return "merge_requests" if "/merge_requests/" in req.path else "issues"

    def _parent_missing(self, req: Request, project: Project, iid: int) -> Reply | None:
        if self._noun(req) == "merge_requests" and iid not in project.mrs:
            return self.error(404, "404 Not found")
        return None

    def _list_notes(self, req: Request, user: dict[str, Any], project: Project, iid: str) -> Reply:
        if (missing := self._parent_missing(req, project, int(iid))) is not None:
            return missing
        notes = list(project.notes.get((self._noun(req), int(iid)), []))
        key = "updated_at" if req.arg("order_by") == "updated_at" else "id"
        notes.sort(key=lambda n: (n[key], n["id"]), reverse=req.arg("sort", "desc") != "asc")
        return self._page(req, notes)

    def _create_note(self, req: Request, user: dict[str, Any], project: Project, iid: str) -> Reply:
        if (missing := self._parent_missing(req, project, int(iid))) is not None:
            return missing
        body = self._body(req)
        if not body:
            return Reply(400, {"message": '400 Bad request - Note {:note=>["can\'t be blank"]}'})
        if len(body) > 1_000_000:
            return Reply(400, {"message": {"note": ["is too long (maximum is 1000000 characters)"]}})
        note = self._note(user, body, self._noun(req), int(iid))
        project.notes.setdefault((self._noun(req), int(iid)), []).append(note)
        return Reply(201, note)

    def _update_note(self, req: Request, user: dict[str, Any], project: Project, iid: str, nid: str) -> Reply:
        for note in project.notes.get((self._noun(req), int(iid)), []):
            if note["id"] == int(nid):
                return self._edit(req, user, note)
        return self.error(404, "404 Note Not Found")

    def _edit(self, req: Request, user: dict[str, Any], note: dict[str, Any]) -> Reply:
        if note["author"]["id"] != user["id"]:
            return self.error(403, "403 Forbidden")
        body = self._body(req)
        if not body:
            return Reply(400, {"message": "400 Bad request - body is missing"})
        note.update(body=body, updated_at=self.now)
        return Reply(200, note)

    def _delete_note(self, req: Request, user: dict[str, Any], project: Project, iid: str, nid: str) -> Reply:
        """``DELETE .../notes/:note_id``: 204, 404 once gone (docs.gitlab.com/api/notes#delete-a-merge-request-note)."""
        notes = project.notes.get((self._noun(req), int(iid)), [])
        for note in notes:
            if note["id"] == int(nid):
                if note["author"]["id"] != user["id"]:
                    return self.error(403, "403 Forbidden")
                notes.remove(note)
                return Reply(204)
        return self.error(404, "404 Note Not Found")

    def _delete_discussion_note(
        self, req: Request, user: dict[str, Any], project: Project, sha: str, did: str, nid: str
    ) -> Reply:
        """``DELETE .../commits/:sha/discussions/:did/notes/:nid`` (docs.gitlab.com/api/discussions#delete-a-commit-thread-note).

        A thread left without notes goes too, as GitLab's does.
        """
        threads = project.discussions.get(sha, [])
        for disc in threads:
            for note in disc["notes"] if disc["id"] == did else []:
                if note["id"] == int(nid):
                    if note["author"]["id"] != user["id"]:
                        return self.error(403, "403 Forbidden")
                    disc["notes"].remove(note)
                    if not disc["notes"]:
                        threads.remove(disc)
                    return Reply(204)
        return self.error(404, "404 Not found")

    def _mrs_for_commit(self, req: Request, user: dict[str, Any], project: Project, sha: str) -> Reply:
        if sha not in project.commits:
            return self.error(404, "404 Commit Not Found")
        return self._page(req, [mr for mr in project.mrs.values() if mr["sha"] == sha])

    def _list_discussions(self, req: Request, user: dict[str, Any], project: Project, sha: str) -> Reply:
        if sha not in project.commits:
            return self.error(404, "404 Commit Not Found")
        return self._page(req, project.discussions.get(sha, []))

    def _create_discussion(self, req: Request, user: dict[str, Any], project: Project, sha: str) -> Reply:
        if sha not in project.commits:
            return self.error(404, "404 Commit Not Found")
        body = self._body(req)
        if not body:
            return Reply(400, {"error": "body is missing"})
        disc = {
            "id": secrets.token_hex(20),
            "individual_note": True,
            "notes": [self._note(user, body, "commit", sha)],
        }
        project.discussions.setdefault(sha, []).append(disc)
        return Reply(201, disc)

    def _update_discussion_note(
        self, req: Request, user: dict[str, Any], project: Project, sha: str, did: str, nid: str
    ) -> Reply:
        for disc in project.discussions.get(sha, []):
            if disc["id"] == did:
                for note in disc["notes"]:
                    if note["id"] == int(nid):
                        return self._edit(req, user, note)
        return self.error(404, "404 Not found")

    def _upload(self, req: Request, user: dict[str, Any], project: Project) -> Reply:
        head = f"Content-Type: {req.headers.get('content-type', '')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + req.body)
        parts = (
            [p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file"]
            if message.is_multipart()
            else []
        )
        if not parts or not parts[0].get_filename():
            return Reply(400, {"error": "file is missing"})
        name = parts[0].get_filename() or "file"
        secret = secrets.token_hex(16)
        url = f"/uploads/{secret}/{quote(name)}"
        alt = name.rsplit(".", 1)[0]
        image = name.lower().endswith((".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"))
        upload = {
            "id": next(self._ids),
            "alt": alt,
            "url": url,
            "full_path": f"/-/project/{project.id}{url}",
            "markdown": f"![{alt}]({url})" if image else f"[{name}]({url})",
        }
        content = parts[0].get_payload(decode=True)
        uploader = {k: user[k] for k in ("id", "name", "username")}
        extra = {"filename": name, "size": len(content), "created_at": self.now, "uploaded_by": uploader}
        project.uploads.append({**upload, **extra, "content": content})
        return Reply(201, upload)

    def _maintainer(self, user: dict[str, Any]) -> Reply | None:
        """403 unless ``user`` is at least Maintainer (docs.gitlab.com/api/project_markdown_uploads:
        "List uploads" and "Delete an uploaded file by ID" need the Maintainer or Owner role).
        """
        if user["username"] in self.below_maintainer:
            return self.error(403, "403 Forbidden")
        return None

    def _list_uploads(self, req: Request, user: dict[str, Any], project: Project) -> Reply:
        """``GET /projects/:id/uploads``: ``id``, ``size``, ``filename``, ``created_at``, ``uploaded_by``,
        "sorted by created_at in descending order" (no secret, so no link) -- GitLab 17.2+.
        """
        if self.uploads_api < (17, 2):
            return self.error(404, "404 Not Found")
        if (no := self._maintainer(user)) is not None:
            return no
        keys = ("id", "size", "filename", "created_at", "uploaded_by")
        listed = sorted(project.uploads, key=lambda u: (u["created_at"], u["id"]), reverse=True)
        return self._page(req, [{k: u[k] for k in keys} for u in listed])

    def _delete_upload(self, req: Request, user: dict[str, Any], project: Project, uid: str) -> Reply:
        """``DELETE /projects/:id/uploads/:upload_id``: 204, 404 when there is none (Maintainer)."""
        if (no := self._maintainer(user)) is not None:
            return no
        for upload in project.uploads:
            if upload["id"] == int(uid):
                project.uploads.remove(upload)
                return Reply(204)
        return self.error(404, "404 Upload Not Found")

    @staticmethod
    def _after(req: Request, name: str, when: str) -> bool:
        """True when ``when`` is at or after the request's ``name`` filter (or it has none)."""
        limit = req.arg(name)
        return not limit or datetime.fromisoformat(when) >= datetime.fromisoformat(limit)

    def _touched(self, project: Project, noun: str, iid: int, created: str) -> str:
        """An MR's or issue's ``updated_at``: a note made or edited on it touches it, as GitLab's do."""
        stamps = [created, *(n["updated_at"] for n in project.notes.get((noun, iid), []))]
        return max(stamps, key=datetime.fromisoformat)

    def _list_mrs(self, req: Request, user: dict[str, Any], project: Project) -> Reply:
        """``GET /projects/:id/merge_requests?state=&updated_after=`` (docs.gitlab.com/api/merge_requests)."""
        state = req.arg("state", "all")
        found = []
        for mr in project.mrs.values():
            updated = self._touched(project, "merge_requests", mr["iid"], mr["created_at"])
            if state in ("all", mr["state"]) and self._after(req, "updated_after", updated):
                found.append({**mr, "updated_at": updated})
        return self._page(req, found)

    def _list_issues(self, req: Request, user: dict[str, Any], project: Project) -> Reply:
        """``GET /projects/:id/issues?updated_after=``: the fake's issues are those with notes; 403 when
        the project has issues turned off (the feature's access level "disabled").
        """
        if "issues" in self.features_off:
            return self.error(403, "403 Forbidden")
        found = []
        for noun, iid in project.notes:
            updated = self._touched(project, noun, iid, "2000-01-01T00:00:00.000Z")
            if noun == "issues" and self._after(req, "updated_after", updated):
                found.append(
                    {"id": iid + 90_000, "iid": iid, "project_id": project.id, "updated_at": updated}
                )
        return self._page(req, found)

    def _list_commits(self, req: Request, user: dict[str, Any], project: Project) -> Reply:
        """``GET /projects/:id/repository/commits?since=&all=`` (docs.gitlab.com/api/commits)."""
        found = []
        for sha in sorted(project.commits):
            when = project.commit_dates.get(sha, self.now)
            if self._after(req, "since", when):
                found.append({"id": sha, "short_id": sha[:8], "created_at": when, "committed_date": when})
        return self._page(req, found)

    def _download(
        self, req: Request, user: dict[str, Any], project: Project, secret: str, filename: str
    ) -> Reply:
        """``GET /projects/:id/uploads/:secret/:filename`` (GitLab 17.4+, Guest role): the file's bytes.

        docs.gitlab.com/api/project_markdown_uploads, "Download an uploaded file by secret and filename".
        """
        if self.uploads_api < (17, 4):
            return self.error(404, "404 Not Found")  # the route does not exist yet
        url = f"/uploads/{secret}/{filename}"
        for upload in project.uploads:
            if upload["url"] == url:
                kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
                return Reply(200, upload["content"], {"Content-Type": kind})
        return self.error(404, "404 Not found")

    def _set_status(self, req: Request, user: dict[str, Any], project: Project, sha: str) -> Reply:
        if sha not in project.commits:
            return self.error(404, "404 Commit Not Found")
        data = req.json if isinstance(req.json, dict) else {}
        state = data.get("state")
        if state not in ("pending", "running", "success", "failed", "canceled", "skipped"):
            return Reply(400, {"error": "state does not have a valid value"})
        name = data.get("name") or data.get("context") or "default"
        status = {"id": next(self._ids), "sha": sha, "ref": data.get("ref"), "status": state, "name": name}
        status.update(target_url=data.get("target_url"), description=data.get("description"), created_at=_NOW)
        status.update(author=dict(user), allow_failure=False, coverage=data.get("coverage"))
        kept = [s for s in project.statuses.get(sha, []) if s["name"] != name]
        project.statuses[sha] = [*kept, status]
        return Reply(201, status)

    def _list_statuses(self, req: Request, user: dict[str, Any], project: Project, sha: str) -> Reply:
        return self._page(req, project.statuses.get(sha, []))
