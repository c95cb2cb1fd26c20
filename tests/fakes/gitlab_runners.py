"""The fake GitLab's runners (the ``glrt-`` authentication-token flow), with state.

Follows docs.gitlab.com/api/users#create-a-runner-linked-to-a-user (``POST /user/runners``: 201
``{id, token, token_expires_at}``; the ``create_runner`` or ``api`` scope) and docs.gitlab.com/api/runners
(``GET /projects/:id/runners`` and ``GET /groups/:id/runners`` paginated, filtered by ``type`` and
``status``; ``GET|PUT|DELETE /runners/:id``, ``GET /runners/:id/jobs``; the ``manage_runner`` or
``api`` scope, ``read_api`` for reads). Status is ``never_contacted`` until the runner registers.

Tests drive the runners' side through ``fake.runners`` (a :class:`GitLabRunnerStore`)::

    fake.runners.add_group("group", 77)                    # group scope exists
    runner = fake.runners.register(glrt_token)             # `gitlab-runner register`: online
    fake.runners.set_busy(runner["id"])                    # a job is running on it
    runner["status"] = "offline"                           # the machine went away
    fake.runners.add("old-1", ["gpu"], project=42, status="offline")   # seed without a token
"""

from __future__ import annotations

import itertools
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tests.fakes.http import Reply, Request

if TYPE_CHECKING:
    from tests.fakes.gitlab import FakeGitLab

_V4 = "/api/v4"
_READ = {"api", "read_api", "manage_runner"}
_MANAGE = {"api", "manage_runner"}
_CREATE = {"api", "create_runner"}
_STATUSES = {"online", "offline", "stale", "never_contacted"}
_PRIVATE = ("_token", "_jobs", "_projects", "_group")


class GitLabRunnerStore:
    """Runners and groups; see the module docstring. Runners are dicts in GitLab's shape plus
    private keys (``_token``, ``_jobs``, ``_projects``, ``_group``)."""

    def __init__(self, fake: FakeGitLab) -> None:
        self.fake = fake
        self.runners: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, str] = {}  # id -> full path
        self.issued: list[str] = []  # every glrt- token handed out
        self._ids = itertools.count(9000)

    def add_group(self, path: str, group_id: int) -> None:
        """A group at ``path`` (its projects are those whose path starts with ``path/``)."""
        self.groups[group_id] = path

    def new(
        self, description: str, tags: list[str], *, project: int | None, group: int | None
    ) -> dict[str, Any]:
        """A runner record, status ``never_contacted``."""
        runner: dict[str, Any] = {"id": next(self._ids), "description": description, "ip_address": None}
        runner.update(active=True, paused=False, is_shared=False, name=None, online=False)
        runner.update(runner_type="group_type" if group else "project_type", status="never_contacted")
        runner.update(tag_list=list(tags), run_untagged=False, locked=True, access_level="not_protected")
        runner.update(maximum_timeout=None, maintenance_note=None, contacted_at=None, version=None)
        runner.update(revision=None, platform=None, architecture=None)
        runner.update(_token="glrt-" + secrets.token_urlsafe(18), _jobs=[], _group=group)
        runner["_projects"] = [project] if project else []
        self.runners[runner["id"]] = runner
        return runner

    def add(
        self,
        description: str,
        tags: list[str] | tuple[str, ...] = (),
        *,
        project: int | None = None,
        group: int | None = None,
        status: str = "online",
        busy: bool = False,
    ) -> dict[str, Any]:
        """Seed a runner that has registered (``status`` online by default)."""
        runner = self.new(description, list(tags), project=project, group=group)
        runner.update(status=status, online=status == "online", name="gitlab-runner")
        if busy:
            self.set_busy(runner["id"])
        return runner

    def register(self, token: str, *, architecture: str = "amd64") -> dict[str, Any]:
        """What ``gitlab-runner register --token glrt-...`` and a first contact do: the runner is
        online. Raises LookupError for an unknown token (or a deleted runner's)."""
        for runner in self.runners.values():
            if runner["_token"] == token:
                runner.update(status="online", online=True, name="gitlab-runner", architecture=architecture)
                runner.update(platform="linux", contacted_at="2026-11-28T04:00:00.000Z", version="17.6.0")
                return runner
        raise LookupError("runner authentication token unknown")

    def set_busy(self, runner_id: int, busy: bool = True) -> None:
        """Give the runner a running job (or none)."""
        runner = self.runners[runner_id]
        runner["_jobs"] = (
            [{"id": next(self._ids), "status": "running", "stage": "test", "name": "train"}] if busy else []
        )

    def get(self, runner_id: int) -> dict[str, Any] | None:
        return self.runners.get(runner_id)

    def of(self, *, project: int | None = None, group: int | None = None) -> list[dict[str, Any]]:
        """The runners created for a project or a group."""
        if group is not None:
            return [r for r in self.runners.values() if r["_group"] == group]
        return [r for r in self.runners.values() if project in r["_projects"]]

    @staticmethod
    def public(runner: dict[str, Any], *, details: bool = False) -> dict[str, Any]:
        """The runner as a listing (``details=False``) or ``GET /runners/:id`` answers it."""
        listed = ("id", "description", "ip_address", "active", "paused", "is_shared", "runner_type")
        keys = (*listed, "name", "online", "status")
        out = {k: runner[k] for k in keys}
        if details:
            out.update({k: v for k, v in runner.items() if not k.startswith("_")})
        return out


def register(fake: FakeGitLab) -> GitLabRunnerStore:
    """Install the runner routes on ``fake``; return the store tests drive."""
    store = GitLabRunnerStore(fake)

    def authed(scopes: set[str], fn: Any) -> Any:
        def handler(req: Request, **kw: str) -> Reply:
            token = req.headers.get("private-token") or req.headers.get("authorization", "").removeprefix(
                "Bearer "
            )
            if token not in fake.tokens:
                return fake.error(401, "401 Unauthorized")
            user, have = fake.tokens[token]
            if not have & scopes:
                return Reply(
                    403,
                    {
                        "error": "insufficient_scope",
                        "scope": " ".join(sorted(scopes - {"read_api"})),
                        "error_description": "The request requires higher privileges than provided by the access token.",
                    },
                )
            return fn(req, user, **kw)  # type: ignore[no-any-return]

        return handler

    def group_of(key: str) -> int | None:
        key = unquote(key)
        return next((gid for gid, path in store.groups.items() if key in (str(gid), path)), None)

    def create(req: Request, user: dict[str, Any]) -> Reply:
        data = req.json if isinstance(req.json, dict) else {}
        kind = data.get("runner_type")
        if kind not in ("instance_type", "group_type", "project_type"):
            return Reply(400, {"error": "runner_type does not have a valid value"})
        project = group = None
        if kind == "project_type":
            found = fake._find(str(data.get("project_id", "")))
            if found is None:
                return fake.error(403, "403 Forbidden")  # GitLab: no create_runner permission there
            project = found.id
        elif kind == "group_type":
            group = group_of(str(data.get("group_id", "")))
            if group is None:
                return fake.error(403, "403 Forbidden")
        else:
            return fake.error(403, "403 Forbidden")  # instance runners need an administrator
        tags = data.get("tag_list") or []
        tags = [t.strip() for t in tags.split(",")] if isinstance(tags, str) else list(tags)
        runner = store.new(str(data.get("description") or ""), tags, project=project, group=group)
        for key in ("run_untagged", "locked", "paused", "access_level", "maximum_timeout"):
            if key in data:
                runner[key] = data[key]
        runner["active"] = not runner["paused"]
        store.issued.append(runner["_token"])
        return Reply(201, {"id": runner["id"], "token": runner["_token"], "token_expires_at": None})

    def listed(req: Request, runners: list[dict[str, Any]]) -> Reply:
        kind, status = req.arg("type"), req.arg("status")
        if status is not None and status not in _STATUSES | {"active", "paused"}:
            return Reply(400, {"error": "status does not have a valid value"})
        items = [
            store.public(r)
            for r in sorted(runners, key=lambda r: r["id"])
            if (kind is None or r["runner_type"] == kind) and (status is None or r["status"] == status)
        ]
        return fake._page(req, items)

    def project_runners(req: Request, user: dict[str, Any], pid: str) -> Reply:
        project = fake._find(pid)
        if project is None:
            return fake.error(404, "404 Project Not Found")
        groups = {gid for gid, path in store.groups.items() if project.path.startswith(path + "/")}
        mine = [r for r in store.runners.values() if project.id in r["_projects"] or r["_group"] in groups]
        return listed(req, mine)

    def group_runners(req: Request, user: dict[str, Any], gid: str) -> Reply:
        group = group_of(gid)
        if group is None:
            return fake.error(404, "404 Group Not Found")
        return listed(req, [r for r in store.runners.values() if r["_group"] == group])

    def get_group(req: Request, user: dict[str, Any], gid: str) -> Reply:
        group = group_of(gid)
        if group is None:
            return fake.error(404, "404 Group Not Found")
        path = store.groups[group]
        return Reply(
            200,
            {
                "id": group,
                "full_path": path,
                "path": path.rsplit("/", 1)[-1],
                "web_url": f"{fake.url}/groups/{path}",
            },
        )

    def one(fn: Any) -> Any:
        def handler(req: Request, user: dict[str, Any], rid: str) -> Reply:
            runner = store.runners.get(int(rid))
            return fn(req, runner) if runner is not None else fake.error(404, "404 Runner Not Found")

        return handler

    def get_runner(req: Request, runner: dict[str, Any]) -> Reply:
        return Reply(200, store.public(runner, details=True))

    def put_runner(req: Request, runner: dict[str, Any]) -> Reply:
        data = req.json if isinstance(req.json, dict) else {}
        if "tag_list" in data:
            tags = data["tag_list"]
            runner["tag_list"] = [t.strip() for t in tags.split(",")] if isinstance(tags, str) else list(tags)
        for key in ("description", "run_untagged", "locked", "paused", "access_level", "maximum_timeout"):
            if key in data:
                runner[key] = data[key]
        runner["active"] = not runner["paused"]
        return Reply(200, store.public(runner, details=True))

    def delete_runner(req: Request, runner: dict[str, Any]) -> Reply:
        del store.runners[runner["id"]]
        return Reply(204)

    def jobs(req: Request, runner: dict[str, Any]) -> Reply:
        status = req.arg("status")
        return fake._page(req, [j for j in runner["_jobs"] if status is None or j["status"] == status])

    for method, pattern, scopes, fn in (
        ("POST", "/user/runners", _CREATE, create),
        ("GET", r"/projects/(?P<pid>[^/]+)/runners", _READ, project_runners),
        ("GET", r"/groups/(?P<gid>[^/]+)/runners", _READ, group_runners),
        ("GET", r"/groups/(?P<gid>[^/]+)", _READ, get_group),
        ("GET", r"/runners/(?P<rid>\d+)", _READ, one(get_runner)),
        ("PUT", r"/runners/(?P<rid>\d+)", _MANAGE, one(put_runner)),
        ("DELETE", r"/runners/(?P<rid>\d+)", _MANAGE, one(delete_runner)),
        ("GET", r"/runners/(?P<rid>\d+)/jobs", _READ, one(jobs)),
    ):
        fake.route(method, _V4 + pattern, authed(scopes, fn))
    return store
