"""GitLab's runner API (the ``glrt-`` authentication-token flow) for one project or one group.

Calls go through python-gitlab's session, guarded by :mod:`cml.forges.transport`, with errors
translated by :mod:`cml.forges.errors` and retried by :mod:`cml.forges.retry`. Endpoints
(docs.gitlab.com/api/users#create-a-runner-linked-to-a-user, docs.gitlab.com/api/runners):
``POST /user/runners`` (the ``create_runner`` or ``api`` scope), ``GET /projects/:id/runners`` /
``GET /groups/:id/runners``, ``GET|PUT|DELETE /runners/:id`` and ``GET /runners/:id/jobs`` (the
``manage_runner`` or ``api`` scope). The binary and its checksum come from GitLab's release bucket,
whose ``release.sha256`` lists ``<sha256> <path>`` for every file of a release.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from cml.ci import CIContext
from cml.errors import AuthError, ForgeError
from cml.forges import retry
from cml.forges.errors import GitLabErrors
from cml.log import logger, register_secret
from cml.runner import Arch, Package, RemoteRunner

T = TypeVar("T")
#: Where GitLab publishes gitlab-runner releases (docs.gitlab.com/runner/install/linux-manually).
DOWNLOADS = "https://s3.dualstack.us-east-1.amazonaws.com/gitlab-runner-downloads/latest"
DOWNLOADS_SETTING = "CML_GITLAB_RUNNER_DOWNLOADS"
_OURS: dict[str, Any] = {"obey_rate_limit": False}
_ARCH = {"x64": "amd64", "arm64": "arm64"}
_OS = {"linux": "linux", "darwin": "darwin", "osx": "darwin"}
_END = object()
_CREATE_FIX = (
    "the token needs the create_runner (or api) scope and the Maintainer role on the project "
    "(Owner on a group)"
)
_MANAGE_FIX = (
    "the token needs the manage_runner (GitLab 17.1+) or api scope and the Maintainer role on the "
    "project (Owner on a group)"
)


def downloads(env: Mapping[str, str]) -> str:
    """The release folder to fetch gitlab-runner from: ``CML_GITLAB_RUNNER_DOWNLOADS`` or GitLab's."""
    return (env.get(DOWNLOADS_SETTING) or DOWNLOADS).rstrip("/")


class GitLabRunners:
    """Runners of ``ctx``'s project (``project_type``) or of ``group`` (``group_type``)."""

    def __init__(
        self,
        ctx: CIContext,
        token: str,
        *,
        group: str | None = None,
        downloads: str = DOWNLOADS,
        env: Mapping[str, str] | None = None,
        options: Mapping[str, str] | None = None,
    ) -> None:
        from cml.forges import gitlab

        register_secret(token, env)
        self.ctx = ctx
        self.group = group
        self.env = env
        self.downloads = downloads.rstrip("/")
        self.gl = gitlab.create(ctx, token, options or {}).gl
        self.scope = f"group {group}" if group else f"project {ctx.repo}"
        self._errors = GitLabErrors(api_url=self.gl.api_url, project=group or ctx.repo)
        self.gl.session.hooks["response"].append(self._errors.remember)
        self._id: int | None = None

    @property
    def url(self) -> str:
        """The instance URL ``gitlab-runner register --url`` wants (a subpath kept)."""
        return str(self.gl.url).rstrip("/")

    def _run(self, fn: Callable[[], T], *, what: str, method: str = "GET", fix: str = _MANAGE_FIX) -> T:
        """``fn`` under the retry policy, errors translated; a 403 names the scope it needs."""
        try:
            return retry.call(
                lambda: self._errors.guard(fn, what=what, method=method),
                what=what,
                idempotent=method != "POST",
            )
        except AuthError as exc:
            if exc.status != 403:
                raise
            raise AuthError(
                f"{what}: GitLab refused it on {self.scope} (403)", status=403, body=exc.body, hint=fix
            ) from None

    def _owner(self) -> tuple[str, str]:
        """(``projects`` or ``groups``, the URL-encoded path or id) of this scope."""
        if self.group:
            return "groups", quote(self.group, safe="")
        return "projects", quote(self.ctx.project_id or self.ctx.repo, safe="")

    def _owner_id(self) -> int:
        """The numeric project or group id (``GET /projects/:id`` / ``GET /groups/:id`` when unknown)."""
        if self._id is None:
            if not self.group and (self.ctx.project_id or "").isdigit():
                self._id = int(self.ctx.project_id or 0)
            else:
                kind, key = self._owner()
                got = self._run(
                    lambda: self.gl.http_get(f"/{kind}/{key}", **_OURS), what=f"GET /{kind}/{key}"
                )
                if not isinstance(got, dict) or not isinstance(got.get("id"), int):
                    raise ForgeError(f"GET /{kind}/{key}: GitLab's answer holds no id")
                self._id = int(got["id"])
        return self._id

    def package(self, os: str, arch: Arch) -> Package:
        """gitlab-runner for ``os``/``arch`` from the release folder, with its published sha256.

        Reads ``release.sha256`` there (no token travels: :func:`cml.runner.package.get_text`).
        Raises ForgeError when the checksum list does not name the binary.
        """
        from cml.runner.package import get_text

        if os not in _OS or arch not in _ARCH:
            raise ForgeError(f"GitLab publishes no gitlab-runner binary cml can use for {os}/{arch}")
        filename = f"gitlab-runner-{_OS[os]}-{_ARCH[arch]}"
        listing = get_text(f"{self.downloads}/release.sha256", what="GET release.sha256")
        sha = checksum(listing, f"binaries/{filename}")
        if sha is None:
            raise ForgeError(
                f"{self.downloads}/release.sha256 lists no checksum for binaries/{filename}",
                hint=f"check {DOWNLOADS_SETTING}",
            )
        version = self.downloads.rsplit("/", 1)[-1]
        url = f"{self.downloads}/binaries/{filename}"
        return Package(os=os, arch=arch, version=version, url=url, sha256=sha, filename=filename)

    def create_runner(
        self, description: str, tags: Sequence[str], *, run_untagged: bool = False
    ) -> tuple[int, str]:
        """A runner with its ``glrt-`` token (``POST /user/runners``); the token is registered.

        A request whose answer was lost is not repeated blindly: a runner with that description
        left behind is deleted first (its token cannot be read again).
        """
        kind = "group_type" if self.group else "project_type"
        body: dict[str, Any] = {"runner_type": kind, "description": description, "tag_list": list(tags)}
        body.update(run_untagged=run_untagged, locked=True)
        body["group_id" if self.group else "project_id"] = self._owner_id()
        what = f"POST /user/runners ({description})"
        post = lambda: self.gl.http_post("/user/runners", post_data=body, **_OURS)  # noqa: E731
        for attempt in range(retry.DEFAULT.attempts):
            try:
                got = self._run(post, what=what, method="POST", fix=_CREATE_FIX)
                break
            except retry.MaybeWritten as exc:
                logger.info("%s: %s; looking for the runner before trying again", what, exc.message)
                if attempt + 1 == retry.DEFAULT.attempts:
                    raise ForgeError(f"{what}: no answer after {attempt + 1} attempts") from None
                for runner in self.runners(description):
                    if runner.name == description:
                        self.delete(runner.id)
                retry.sleep(retry.DEFAULT.delay(attempt, exc.retry_after))
        data = got if isinstance(got, dict) else {}
        token, rid = data.get("token"), data.get("id")
        if not isinstance(token, str) or not token or not isinstance(rid, int):
            raise ForgeError(f"{what}: GitLab's answer holds no runner id and token")
        register_secret(token, self.env)
        return rid, token

    def _listing(self) -> Iterator[dict[str, Any]]:
        """This scope's own runners (``GET /projects/:id/runners?type=project_type``, all pages)."""
        kind, key = self._owner()
        path = f"/{kind}/{key}/runners"
        query = {"type": "group_type" if self.group else "project_type", "per_page": 100}
        what = f"GET {path}"
        pages = self._run(
            lambda: iter(self.gl.http_list(path, query_data=query, iterator=True, **_OURS)), what=what
        )
        while (item := self._run(lambda: next(pages, _END), what=what)) is not _END:
            if isinstance(item, dict):
                yield item

    def runners(self, prefix: str = "") -> list[RemoteRunner]:
        """Runners whose description starts with ``prefix``, with their tags and whether one runs a job.

        ``GET .../runners`` (all pages), then ``GET /runners/:id`` for the tags and, for online
        runners, ``GET /runners/:id/jobs?status=running``.
        """
        found = []
        for raw in self._listing():
            if str(raw.get("description") or "").startswith(prefix):
                found.append(self._details(raw))
        return found

    def _details(self, raw: Mapping[str, Any]) -> RemoteRunner:
        rid = int(raw["id"])
        got = self._run(lambda: self.gl.http_get(f"/runners/{rid}", **_OURS), what=f"GET /runners/{rid}")
        tags = got.get("tag_list") if isinstance(got, dict) else None
        online = raw.get("status") == "online"
        busy = False
        if online:
            jobs = self._run(
                lambda: self.gl.http_get(
                    f"/runners/{rid}/jobs", query_data={"status": "running", "per_page": 1}, **_OURS
                ),
                what=f"GET /runners/{rid}/jobs",
            )
            busy = bool(jobs)
        return RemoteRunner(
            id=rid,
            name=str(raw.get("description") or ""),
            labels=tuple(str(t) for t in tags or []),
            online=online,
            busy=busy,
        )

    def delete(self, runner_id: int) -> bool:
        """Remove a runner (``DELETE /runners/:id``); False when it was already gone (404)."""
        what = f"DELETE /runners/{runner_id}"
        try:
            self._run(
                lambda: self.gl.http_delete(f"/runners/{runner_id}", **_OURS), what=what, method="DELETE"
            )
        except ForgeError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def set_labels(self, runner_id: int, tags: Sequence[str]) -> None:
        """Replace the runner's tags (``PUT /runners/:id`` with ``tag_list``)."""
        path = f"/runners/{runner_id}"
        self._run(
            lambda: self.gl.http_put(path, post_data={"tag_list": list(tags)}, **_OURS),
            what=f"PUT {path}",
            method="PUT",
        )


def checksum(listing: str, name: str) -> str | None:
    """The sha256 that ``release.sha256`` gives for ``name`` (``<sha256> [*]<path>`` lines)."""
    for line in listing.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[1].strip().lstrip("*").removeprefix("./") == name:
            sha = parts[0].lower()
            if len(sha) == 64 and all(c in "0123456789abcdef" for c in sha):
                return sha
    return None
