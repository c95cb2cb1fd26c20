"""GitHub's self-hosted runner API, for one repository or one organisation.

Calls go through :class:`cml.forges.github_http.Api` (the one retry policy, the guarded transport);
docs.github.com/rest/actions/self-hosted-runners describes every endpoint used here. Registration
tokens, remove tokens and JIT configs are registered as secrets before they are returned. The token
needs the "Administration" repository permission (write) for a repository, the "Self-hosted runners"
organisation permission for an organisation; the job's default ``GITHUB_TOKEN`` has neither.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from cml.ci import CIContext
from cml.errors import AuthError, ForgeError
from cml.forges import retry
from cml.forges.github_http import Answer, Api
from cml.log import logger, register_secret
from cml.runner import Arch, Package, RemoteRunner

_PER_PAGE = 100
_MAX_PAGES = 1000
_VERSION = re.compile(r"-(\d+(?:\.\d+)+)\.(?:tar\.gz|zip)$")
_NO_ADMIN = (
    "the default GITHUB_TOKEN cannot register runners: use a fine-grained token or GitHub App with "
    "{permission}, stored as a secret (REPO_TOKEN)"
)


class GitHubRunners:
    """Runners of ``ctx.repo`` (repository scope) or of organisation ``org``."""

    def __init__(
        self, ctx: CIContext, token: str, *, org: str | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        from cml.forges import github

        register_secret(token, env)
        self.ctx = ctx
        self.org = org
        self.env = env
        self.api: Api = github.create(ctx, token, {}).api
        self.base = f"/orgs/{org}/actions/runners" if org else f"{self.api.repo_path}/actions/runners"
        self.scope = f"organisation {org}" if org else f"repository {ctx.repo}"
        self.permission = (
            'the "Self-hosted runners" organisation permission (read and write)'
            if org
            else 'the "Administration" repository permission (read and write)'
        )

    @property
    def url(self) -> str:
        """What ``config.sh --url`` wants: ``https://github.com/OWNER/REPO`` or ``https://github.com/ORG``."""
        return f"{self.ctx.server_url.rstrip('/')}/{self.org or self.ctx.repo}"

    def _call(self, verb: str, path: str, *, what: str, **kw: Any) -> Any:
        """``Api.call`` with runner-specific 403/404 messages; returns the answer's data."""
        return self._answer(verb, path, what=what, **kw).data

    def _answer(self, verb: str, path: str, *, what: str, **kw: Any) -> Answer:
        """``Api.call`` with runner-specific 403/404 messages."""
        try:
            return self.api.call(verb, path, what=what, need="administration: write", **kw)
        except AuthError as exc:
            if exc.status != 403:
                raise
            raise AuthError(
                f"{what}: GitHub refused it on {self.scope} (403)",
                status=403,
                body=exc.body,
                hint=_NO_ADMIN.format(permission=self.permission),
            ) from None
        except ForgeError as exc:
            if exc.status != 404 or self.org is None:
                raise
            raise ForgeError(
                f"{what}: GitHub answered 404: check that organisation {self.org} exists at "
                f"{self.ctx.api_url} and that the token may manage its runners",
                status=404,
                body=exc.body,
            ) from None

    def package(self, os: str, arch: Arch) -> Package:
        """The runner package for ``os``/``arch`` (``GET .../actions/runners/downloads``).

        Raises ForgeError when GitHub lists none for them (naming what it does list).
        """
        what = f"GET {self.base}/downloads"
        data = self._call("GET", f"{self.base}/downloads", what=what)
        apps = [a for a in data if isinstance(a, dict)] if isinstance(data, list) else []
        for app in apps:
            if app.get("os") == os and app.get("architecture") == arch:
                filename = str(app.get("filename", ""))
                found = _VERSION.search(filename)
                return Package(
                    os=os,
                    arch=arch,
                    version=found.group(1) if found else "",
                    url=str(app.get("download_url", "")),
                    sha256=str(app.get("sha256_checksum") or "").lower(),
                    filename=filename,
                )
        offered = ", ".join(sorted(f"{a.get('os')}/{a.get('architecture')}" for a in apps)) or "none"
        raise ForgeError(f"{what}: GitHub publishes no runner for {os}/{arch} (it lists: {offered})")

    def jit_config(
        self, name: str, labels: Sequence[str], *, group_id: int = 1, work_folder: str = "_work"
    ) -> tuple[int, str]:
        """A just-in-time runner: ``POST .../generate-jitconfig``; returns (runner id, encoded config).

        A request whose answer was lost is not repeated blindly: a runner of that name left behind
        is deleted first (its config cannot be read again). Raises ForgeError for a name in use (409)
        or labels GitHub refuses (422).
        """
        if not 1 <= len(labels) <= 100:
            raise ForgeError(
                f"runner {name}: GitHub wants 1 to 100 labels for a JIT runner, not {len(labels)}"
            )
        body = {"name": name, "runner_group_id": group_id, "labels": list(labels), "work_folder": work_folder}
        what = f"POST {self.base}/generate-jitconfig ({name})"
        for attempt in range(retry.DEFAULT.attempts):
            try:
                data = self._call("POST", f"{self.base}/generate-jitconfig", what=what, body=body)
                break
            except retry.MaybeWritten as exc:
                logger.info("%s: %s; looking for the runner before trying again", what, exc.message)
                if attempt + 1 == retry.DEFAULT.attempts:
                    raise ForgeError(f"{what}: no answer after {attempt + 1} attempts") from None
                self._drop_named(name)
                retry.sleep(retry.DEFAULT.delay(attempt, exc.retry_after))
            except ForgeError as exc:
                if exc.status == 409:
                    raise ForgeError(
                        f"{what}: a runner named {name} already exists on {self.scope}",
                        status=409,
                        body=exc.body,
                        hint="`cml runner teardown` or `cml runner gc` removes it",
                    ) from None
                raise
        config, runner = data.get("encoded_jit_config"), data.get("runner") or {}
        if not isinstance(config, str) or not isinstance(runner.get("id"), int):
            raise ForgeError(f"{what}: GitHub's answer holds no runner id and JIT config")
        register_secret(config, self.env)
        return int(runner["id"]), config

    def _drop_named(self, name: str) -> None:
        """Delete the runner called ``name`` if one exists (a JIT request whose answer was lost)."""
        for runner in self.runners(name):
            if runner.name == name:
                self.delete(runner.id)

    def _token(self, kind: str) -> str:
        """``POST .../registration-token`` or ``.../remove-token`` (valid one hour); registered."""
        path = f"{self.base}/{kind}"
        # A second token is harmless (each expires within the hour): a lost answer is retried.
        data = self._call("POST", path, what=f"POST {path}", idempotent=True)
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise ForgeError(f"POST {path}: GitHub's answer holds no token")
        register_secret(token, self.env)
        return token

    def registration_token(self) -> str:
        """A registration token for ``config.sh`` (``POST .../registration-token``)."""
        return self._token("registration-token")

    def remove_token(self) -> str:
        """A remove token for ``config.sh remove`` (``POST .../remove-token``)."""
        return self._token("remove-token")

    def runners(self, prefix: str = "") -> list[RemoteRunner]:
        """Every runner whose name starts with ``prefix`` (``GET .../actions/runners``, all pages)."""
        return [_runner(raw) for raw in self._pages() if str(raw.get("name", "")).startswith(prefix)]

    def _pages(self) -> Iterator[dict[str, Any]]:
        """The ``runners`` of each page, following ``Link: rel="next"`` (only within the API)."""
        from cml.forges.github_pages import next_link

        url: str = self.base
        query: dict[str, Any] | None = {"per_page": _PER_PAGE}
        what, seen = f"GET {self.base}", set[int]()
        for _ in range(_MAX_PAGES):
            answer = self._answer("GET", url, what=what, params=query)
            page = answer.data.get("runners") if isinstance(answer.data, dict) else None
            if not isinstance(page, list):
                raise ForgeError(f"{what}: GitHub's answer holds no list of runners")
            ids = {r.get("id") for r in page if isinstance(r, dict)}
            if page and ids <= seen:
                raise ForgeError(f"{what}: GitHub's next page holds only runners already read; stopped")
            seen |= {i for i in ids if isinstance(i, int)}
            yield from (r for r in page if isinstance(r, dict))
            after = next_link(answer.headers, self.ctx.api_url, what=what)
            if after is None:
                return
            url, query = after, None
        raise ForgeError(f"{what}: GitHub kept sending next pages ({_MAX_PAGES} read); stopped")

    def delete(self, runner_id: int) -> bool:
        """Remove a runner (``DELETE .../actions/runners/{id}``); False when it was already gone.

        Raises ForgeError naming the runner while it runs a job (GitHub answers 422).
        """
        path = f"{self.base}/{runner_id}"
        try:
            self._call("DELETE", path, what=f"DELETE {path}", idempotent=True)
        except ForgeError as exc:
            if exc.status == 404:
                return False
            if exc.status == 422:
                raise ForgeError(
                    f"runner {runner_id} on {self.scope} is running a job: GitHub refuses to remove it",
                    status=422,
                    body=exc.body,
                    hint="run teardown again when the job has finished",
                ) from None
            raise
        return True

    def set_labels(self, runner_id: int, labels: Sequence[str]) -> None:
        """Replace the runner's custom labels (``PUT .../actions/runners/{id}/labels``).

        The runner's read-only labels (``self-hosted``, its OS and architecture, which GitHub applies
        itself and matches case-insensitively) are left out: the endpoint sets *custom* labels only.
        """
        path = f"{self.base}/{runner_id}/labels"
        custom = [x for x in labels if x.lower() not in _READ_ONLY]
        if len(custom) > 100:
            raise ForgeError(f"PUT {path}: GitHub takes at most 100 labels, not {len(custom)}")
        self._call("PUT", path, what=f"PUT {path}", body={"labels": custom})


#: The labels GitHub gives every self-hosted runner itself ("read-only" in the labels API).
_READ_ONLY = frozenset({"self-hosted", "linux", "windows", "macos", "x64", "arm", "arm64"})


def _runner(raw: Mapping[str, Any]) -> RemoteRunner:
    """A runner object of GitHub's listing as a RemoteRunner."""
    labels = tuple(str(x.get("name")) for x in raw.get("labels") or [] if isinstance(x, dict))
    return RemoteRunner(
        id=int(raw.get("id") or 0),
        name=str(raw.get("name", "")),
        labels=labels,
        online=raw.get("status") == "online",
        busy=bool(raw.get("busy")),
    )
