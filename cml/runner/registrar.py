"""One interface over the forges' runner APIs, as provisioning needs it, and the registry of forges.

:class:`Registrar` is what :mod:`cml.runner.provision` talks to; :class:`GitHub` and :class:`GitLab`
adapt ``cml.runner.github.GitHubRunners`` and ``cml.runner.gitlab.GitLabRunners`` (described here by
the Protocols :class:`GitHubApi` and :class:`GitLabApi`) to it. Nothing else knows which forge it is.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from cml.ci import CIContext
from cml.errors import ConfigError, UsageError
from cml.runner import Arch, Mode, Package, Probe, RemoteRunner
from cml.secrets import register_secret


class _Common(Protocol):
    """What both forges' runner APIs offer (cml.runner.github.GitHubRunners, cml.runner.gitlab.GitLabRunners)."""

    @property
    def url(self) -> str:
        """The repository/organisation (GitHub) or server (GitLab) URL the runner registers with."""
        ...

    def package(self, os: str, arch: Arch) -> Package:
        """The runner package for ``os``/``arch``."""
        ...

    def runners(self, prefix: str = "") -> list[RemoteRunner]:
        """Every runner whose name starts with ``prefix`` (all pages)."""
        ...

    def delete(self, runner_id: int) -> bool:
        """Delete a runner; False when already gone, ForgeError while busy."""
        ...

    def set_labels(self, runner_id: int, labels: Sequence[str]) -> None:
        """Replace the runner's labels/tags."""
        ...


class GitHubApi(_Common, Protocol):
    """``cml.runner.github.GitHubRunners``."""

    def jit_config(
        self, name: str, labels: Sequence[str], *, group_id: int = 1, work_folder: str = "_work"
    ) -> tuple[int, str]:
        """``POST .../actions/runners/generate-jitconfig`` → (runner id, encoded JIT config)."""
        ...

    def registration_token(self) -> str:
        """``POST .../actions/runners/registration-token``."""
        ...

    def remove_token(self) -> str:
        """``POST .../actions/runners/remove-token``."""
        ...


class GitLabApi(_Common, Protocol):
    """``cml.runner.gitlab.GitLabRunners``."""

    def create_runner(
        self, description: str, tags: Sequence[str], *, run_untagged: bool = False
    ) -> tuple[int, str]:
        """``POST /user/runners`` → (runner id, glrt- token)."""
        ...


@dataclass(frozen=True, kw_only=True)
class Minted:
    """A secret that registers one runner: ``key=secret`` goes on the install script's stdin."""

    runner_id: int | None  # known at once for JIT configs and GitLab runners
    key: str  # "jitconfig" or "token"
    secret: str


class Registrar(Protocol):
    """A forge's runner API as provisioning uses it."""

    @property
    def forge(self) -> str:
        """``github`` / ``gitlab``: the install script is ``install-<forge>.sh``."""
        ...

    @property
    def api(self) -> _Common:
        """The forge's runner API (list, delete, set labels, package)."""
        ...

    def mode(self, mode: Mode) -> Mode:
        """The mode the runner really runs in on this forge."""
        ...

    def mint(self, name: str, labels: Sequence[str], mode: Mode, cache: MutableMapping[str, str]) -> Minted:
        """The secret that registers runner ``name``, minted now (``cache`` is this host's, for reuse)."""
        ...

    def install_params(self, probe: Probe, recorded: Mapping[str, str] | None = None) -> dict[str, str]:
        """The forge's own stdin parameters of ``install-<forge>.sh`` for this host (``recorded``: the
        ones the host's state holds for a runner being updated)."""
        ...

    def teardown_secrets(self, mode: str) -> dict[str, str]:
        """Extra stdin parameters teardown.sh needs for a runner in ``mode`` (a fresh remove token)."""
        ...


@dataclass(frozen=True)
class GitHub:
    """GitHub: JIT config per runner (default), a registration token per host for service/single."""

    api: GitHubApi
    forge: str = "github"

    def mode(self, mode: Mode) -> Mode:
        """Every mode exists on GitHub."""
        return mode

    def mint(self, name: str, labels: Sequence[str], mode: Mode, cache: MutableMapping[str, str]) -> Minted:
        """JIT: ``generate-jitconfig`` for ``name``; else one ``registration-token`` per host (cached)."""
        if mode == "jit":
            runner_id, config = self.api.jit_config(name, labels)
            register_secret(config)
            return Minted(runner_id=runner_id, key="jitconfig", secret=config)
        if "token" not in cache:
            cache["token"] = self.api.registration_token()
            register_secret(cache["token"])
        return Minted(runner_id=None, key="token", secret=cache["token"])

    def install_params(self, probe: Probe, recorded: Mapping[str, str] | None = None) -> dict[str, str]:
        """None: install-github.sh takes only the common ones."""
        return {}

    def teardown_secrets(self, mode: str) -> dict[str, str]:
        """A fresh ``remove-token`` for a configured (service/single) runner; JIT runners need none."""
        if mode == "jit":
            return {}
        token = self.api.remove_token()
        register_secret(token)
        return {"token": token}


@dataclass(frozen=True)
class GitLab:
    """GitLab: ``POST /user/runners`` per runner (glrt- token); no JIT, so ``jit`` runs one job."""

    api: GitLabApi
    forge: str = "gitlab"

    def mode(self, mode: Mode) -> Mode:
        """``jit`` becomes ``single`` (``run-single --max-builds 1``): GitLab has no JIT runners."""
        return "single" if mode == "jit" else mode

    def mint(self, name: str, labels: Sequence[str], mode: Mode, cache: MutableMapping[str, str]) -> Minted:
        """A new runner named ``name`` with ``labels`` as tags, and its authentication token."""
        runner_id, token = self.api.create_runner(name, labels)
        register_secret(token)
        return Minted(runner_id=runner_id, key="token", secret=token)

    def install_params(self, probe: Probe, recorded: Mapping[str, str] | None = None) -> dict[str, str]:
        """The executor: docker (all GPUs passed to jobs on a GPU host) where the host runs docker, else
        shell. A runner being updated keeps what it was registered with (changing it needs a teardown)."""
        if recorded and recorded.get("executor"):
            keys = ("executor", "docker_image", "gpu")
            return {k: recorded[k] for k in keys if recorded.get(k)}
        docker = probe.docker
        return {"executor": "docker" if docker else "shell", "gpu": "1" if docker and probe.gpus else "0"}

    def teardown_secrets(self, mode: str) -> dict[str, str]:
        """None: the runner is deleted through the API after the host stops it."""
        return {}


def open_registrar(
    ctx: CIContext,
    token: str,
    env: Mapping[str, str],
    *,
    org: str | None = None,
    group: str | None = None,
) -> Registrar:
    """The registrar for ``ctx.forge``, at repository/project scope or ``org``/``group`` scope.

    Raises ConfigError when the forge is ``local`` and UsageError when ``org``/``group`` names the
    other forge's scope. GitLab's gitlab-runner binaries come from ``CML_GITLAB_RUNNER_DOWNLOADS``
    (else GitLab's release bucket).
    """
    if ctx.forge not in ("github", "gitlab"):
        raise ConfigError(
            "cml runner needs GitHub or GitLab: run it in their CI or pass --forge github|gitlab"
        )
    if group and ctx.forge == "github":
        raise UsageError("--group is for GitLab, not github")
    if org and ctx.forge == "gitlab":
        raise UsageError("--org is for GitHub, not gitlab")
    if ctx.forge == "github":
        from cml.runner.github import GitHubRunners

        return GitHub(GitHubRunners(ctx, token, org=org, env=env))
    from cml.runner import gitlab

    return GitLab(gitlab.GitLabRunners(ctx, token, group=group, downloads=gitlab.downloads(env), env=env))
