"""The fake GitHub's self-hosted runners, for a repository or an organisation, with state.

Follows docs.github.com/rest/actions/self-hosted-runners: ``GET .../actions/runners/downloads``,
``POST .../registration-token`` and ``.../remove-token`` (201, valid one hour), ``POST
.../generate-jitconfig`` (201 with ``runner`` and ``encoded_jit_config``; 409 for a name in use, 422
for labels outside 1..100, 404 for an unknown runner group), ``GET .../actions/runners`` (paginated,
``total_count`` and ``runners``, ``name`` filters by exact name), ``GET|DELETE .../runners/{id}``
(DELETE: 204, 422 while the runner runs a job) and ``GET|PUT .../runners/{id}/labels``. Every
endpoint needs admin access: user tokens have it unless :attr:`RunnerStore.admins` says otherwise;
installation tokens (the job's ``GITHUB_TOKEN``) never have it unless named there ("Resource not
accessible by integration").

Tests drive the runners' side through ``fake.runners`` (a :class:`RunnerStore`)::

    fake.runners.add_org("acme")                                  # organisation scope exists
    runner = fake.runners.register(token_or_jit, "cml-host-1", ["gpu"], arch="ARM64")  # config.sh / run.sh
    runner.busy = True                                            # a job runs: DELETE answers 422
    runner.status = "offline"                                     # the machine went away
    fake.runners.add("old-1", repo="acme/app", status="offline")  # seed without a token
    fake.runners.expire_tokens()                                  # registration tokens time out
    fake.runners.publish("linux", "x64", url, sha256, filename)   # what /downloads lists
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.http import Reply, Request

if TYPE_CHECKING:
    from tests.fakes.github import FakeGitHub

_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)/actions/runners"
_ORG = r"/orgs/(?P<org>[^/]+)/actions/runners"
_EXPIRES = "2026-01-01T01:00:00.000+00:00"
_NO_INTEGRATION = "Resource not accessible by integration"
_READ_ONLY = "read-only"


@dataclass
class Runner:
    """One registered (or JIT-announced) runner as the fake holds it."""

    id: int
    name: str
    scope: str  # "repos/acme/app" or "orgs/acme"
    labels: list[str] = field(default_factory=list)  # custom labels
    status: str = "offline"  # "online" / "offline"
    busy: bool = False
    os: str = "Linux"
    arch: str = "X64"
    ephemeral: bool = False
    group_id: int = 1
    registered: bool = False  # config.sh (or run.sh --jitconfig) has run

    def read_only(self) -> list[str]:
        """The labels GitHub applies itself: ``self-hosted`` and, once it registered, OS and arch."""
        return ["self-hosted", self.os, self.arch] if self.registered else ["self-hosted"]


@dataclass
class _Token:
    value: str
    kind: str  # "registration" / "remove"
    scope: str
    live: bool = True


class RunnerStore:
    """Runners, tokens and the downloads list; see the module docstring."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.orgs: set[str] = set()
        #: Logins allowed to manage runners; None: every user token's login (not installation tokens).
        self.admins: set[str] | None = None
        self.runners: dict[int, Runner] = {}
        self.tokens: dict[str, _Token] = {}
        self.jit: dict[str, int] = {}  # encoded config -> runner id
        self.issued: list[str] = []  # every token and JIT config handed out (to look for leaks)
        self.groups: set[int] = {1}  # runner groups; 1 is "Default"
        self.label_ids: dict[str, int] = {}
        self.downloads: list[dict[str, str]] = [
            _app("linux", arch, f"https://github.com/actions/runner/releases/download/v2.330.0/{name}", name)
            for arch, name in (
                ("x64", "actions-runner-linux-x64-2.330.0.tar.gz"),
                ("arm64", "actions-runner-linux-arm64-2.330.0.tar.gz"),
            )
        ]

    # ---- what tests call -----------------------------------------------------------------------
    def add_org(self, org: str) -> None:
        """Make organisation ``org`` exist (its runner endpoints answer)."""
        self.orgs.add(org)

    def publish(self, os: str, arch: str, url: str, sha256: str, filename: str) -> None:
        """List this package in ``/downloads`` (replacing the one for the same os/arch)."""
        self.downloads = [d for d in self.downloads if (d["os"], d["architecture"]) != (os, arch)]
        self.downloads.append({**_app(os, arch, url, filename), "sha256_checksum": sha256})

    def add(
        self,
        name: str,
        labels: list[str] | tuple[str, ...] = (),
        *,
        repo: str | None = None,
        org: str | None = None,
        status: str = "online",
        busy: bool = False,
        arch: str = "X64",
    ) -> Runner:
        """Seed a registered runner without going through a token."""
        scope = f"orgs/{org}" if org else f"repos/{repo}"
        runner = Runner(id=self.fake.next_id(), name=name, scope=scope, labels=list(labels), status=status)
        runner.busy, runner.arch, runner.registered = busy, arch, True
        self.runners[runner.id] = runner
        return runner

    def register(
        self, token: str, name: str = "", labels: list[str] | tuple[str, ...] = (), *, arch: str = "X64"
    ) -> Runner:
        """What ``config.sh --token`` (registration token) or ``run.sh --jitconfig`` does: the runner
        comes online. Raises LookupError for an unknown, expired or already used token or config."""
        if token in self.jit:
            runner = self.runners.get(self.jit.pop(token))
            if runner is None:
                raise LookupError("the JIT config's runner was deleted")
        else:
            found = self.tokens.get(token)
            if found is None or not found.live or found.kind != "registration":
                raise LookupError("registration token unknown or expired")
            if any(r.name == name and r.scope == found.scope for r in self.runners.values()):
                raise LookupError(f"a runner named {name} already exists")
            runner = Runner(id=self.fake.next_id(), name=name, scope=found.scope, labels=list(labels))
            self.runners[runner.id] = runner
        runner.status, runner.arch, runner.registered = "online", arch, True
        return runner

    def unregister(self, remove_token: str, name: str) -> bool:
        """What ``config.sh remove --token`` does; False when the token or runner is unknown."""
        found = self.tokens.get(remove_token)
        if found is None or not found.live or found.kind != "remove":
            return False
        for runner in list(self.runners.values()):
            if runner.name == name and runner.scope == found.scope:
                del self.runners[runner.id]
                return True
        return False

    def expire_tokens(self) -> None:
        """Every registration and remove token handed out so far stops working."""
        for token in self.tokens.values():
            token.live = False

    def of(self, *, repo: str | None = None, org: str | None = None) -> list[Runner]:
        """The runners of a repository or organisation."""
        scope = f"orgs/{org}" if org else f"repos/{repo}"
        return [r for r in self.runners.values() if r.scope == scope]

    # ---- objects ---------------------------------------------------------------------------------
    def obj(self, runner: Runner) -> dict[str, Any]:
        """A runner as GitHub answers it."""
        labels = [(n, _READ_ONLY) for n in runner.read_only()] + [(n, "custom") for n in runner.labels]
        return {
            "id": runner.id,
            "runner_group_id": runner.group_id,
            "name": runner.name,
            "os": runner.os if runner.registered else "unknown",
            "status": runner.status,
            "busy": runner.busy,
            "ephemeral": runner.ephemeral,
            "labels": [self.label(n, kind) for n, kind in labels],
        }

    def label(self, name: str, kind: str) -> dict[str, Any]:
        return {"id": self.label_ids.setdefault(name, len(self.label_ids) + 1), "name": name, "type": kind}

    def token(self, kind: str, scope: str) -> dict[str, Any]:
        value = base64.b32encode(os.urandom(20)).decode().rstrip("=")[:29]
        self.tokens[value] = _Token(value=value, kind=kind, scope=scope)
        self.issued.append(value)
        return {"token": value, "expires_at": _EXPIRES}


def _app(os_name: str, arch: str, url: str, filename: str) -> dict[str, str]:
    return {
        "os": os_name,
        "architecture": arch,
        "download_url": url,
        "filename": filename,
        "sha256_checksum": "0" * 64,
    }


def register(fake: FakeGitHub) -> RunnerStore:
    """Install the runner routes for both scopes on ``fake``; return the store tests drive."""
    store = RunnerStore(fake)

    def scoped(fn: Any) -> Any:
        def handler(req: Request, owner: str = "", name: str = "", org: str = "", **kw: str) -> Reply:
            who = fake.auth(req)
            if isinstance(who, Reply):
                return who
            if (org and org not in store.orgs) or (not org and f"{owner}/{name}" not in fake.repos):
                return fake.error(404, "Not Found")
            login, kind = who
            named = store.admins is not None and login in store.admins
            if kind != "user" and not named:
                return fake.error(403, _NO_INTEGRATION)
            if kind == "user" and store.admins is not None and not named:
                return fake.error(
                    403, f"Must have admin rights to {'Organization' if org else 'Repository'}."
                )
            return fn(req, f"orgs/{org}" if org else f"repos/{owner}/{name}", **kw)  # type: ignore[no-any-return]

        return handler

    def find(scope: str, rid: str) -> Runner | None:
        runner = store.runners.get(int(rid))
        return runner if runner is not None and runner.scope == scope else None

    def downloads(req: Request, scope: str) -> Reply:
        return Reply(200, store.downloads)

    def issue(kind: str) -> Any:
        def handler(req: Request, scope: str) -> Reply:
            return Reply(201, store.token(kind, scope))

        return handler

    def jitconfig(req: Request, scope: str) -> Reply:
        data = req.json if isinstance(req.json, dict) else {}
        name, group, labels = data.get("name"), data.get("runner_group_id"), data.get("labels")
        if (
            not isinstance(name, str)
            or not name
            or not isinstance(group, int)
            or not isinstance(labels, list)
        ):
            return fake.error(
                422, "Invalid request.", errors=["name, runner_group_id and labels are required"]
            )
        if not 1 <= len(labels) <= 100 or not all(isinstance(x, str) and x for x in labels):
            return fake.error(422, "Invalid request.", errors=["labels must hold 1 to 100 names"])
        if group not in store.groups:
            return fake.error(404, "Not Found")
        if any(r.name == name and r.scope == scope for r in store.runners.values()):
            return fake.error(409, f"Already exists - A runner with the name {name} already exists.")
        runner = Runner(id=fake.next_id(), name=name, scope=scope, labels=list(labels), group_id=group)
        runner.ephemeral = True
        store.runners[runner.id] = runner
        blob = {".runner": {"AgentId": runner.id, "AgentName": name}, ".credentials": secrets.token_hex(24)}
        config = base64.b64encode(json.dumps(blob).encode()).decode()
        store.jit[config] = runner.id
        store.issued.append(config)
        return Reply(201, {"runner": store.obj(runner), "encoded_jit_config": config})

    def listing(req: Request, scope: str) -> Reply:
        wanted = req.arg("name")
        items = [
            store.obj(r)
            for r in sorted(store.runners.values(), key=lambda r: r.id)
            if r.scope == scope and (wanted is None or r.name == wanted)
        ]
        reply = fake.page(req, items)
        reply.body = {"total_count": len(items), "runners": reply.body}
        return reply

    def get_one(req: Request, scope: str, rid: str) -> Reply:
        runner = find(scope, rid)
        return Reply(200, store.obj(runner)) if runner else fake.error(404, "Not Found")

    def delete(req: Request, scope: str, rid: str) -> Reply:
        runner = find(scope, rid)
        if runner is None:
            return fake.error(404, "Not Found")
        if runner.busy:
            return fake.error(422, f'Bad request - Runner "{runner.name}" is still running a job"')
        del store.runners[runner.id]
        return Reply(204)

    def labels_of(runner: Runner) -> Reply:
        objs = [store.label(n, _READ_ONLY) for n in runner.read_only()]
        objs += [store.label(n, "custom") for n in runner.labels]
        return Reply(200, {"total_count": len(objs), "labels": objs})

    def get_labels(req: Request, scope: str, rid: str) -> Reply:
        runner = find(scope, rid)
        return labels_of(runner) if runner else fake.error(404, "Not Found")

    def set_labels(req: Request, scope: str, rid: str) -> Reply:
        runner = find(scope, rid)
        if runner is None:
            return fake.error(404, "Not Found")
        labels = (req.json or {}).get("labels") if isinstance(req.json, dict) else None
        if (
            not isinstance(labels, list)
            or len(labels) > 100
            or not all(isinstance(x, str) and x for x in labels)
        ):
            return fake.error(422, "Invalid request.", errors=["labels must hold 0 to 100 names"])
        runner.labels = list(dict.fromkeys(labels))
        return labels_of(runner)

    for base in (_REPO, _ORG):
        fake.route("GET", f"{base}/downloads", scoped(downloads))
        fake.route("POST", f"{base}/registration-token", scoped(issue("registration")))
        fake.route("POST", f"{base}/remove-token", scoped(issue("remove")))
        fake.route("POST", f"{base}/generate-jitconfig", scoped(jitconfig))
        fake.route("GET", base, scoped(listing))
        fake.route("GET", f"{base}/(?P<rid>[0-9]+)", scoped(get_one))
        fake.route("DELETE", f"{base}/(?P<rid>[0-9]+)", scoped(delete))
        fake.route("GET", f"{base}/(?P<rid>[0-9]+)/labels", scoped(get_labels))
        fake.route("PUT", f"{base}/(?P<rid>[0-9]+)/labels", scoped(set_labels))
    return store
