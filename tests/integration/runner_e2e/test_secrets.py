"""No form of a token in the remote process list (sampled while the runner is configured), in files left
on the host, or in cml's output; the JIT config lives only in the runner's own environment."""

from __future__ import annotations

import pytest

from tests.integration.runner_e2e.conftest import ADMIN, E2E, files_holding, unmasked
from tests.integration.runner_scripts.conftest import ProcSampler, environ_holders


@pytest.mark.parametrize("mode", ["jit", "service"])
def test_no_token_in_argv_files_or_output(github: E2E, mode: str) -> None:
    fake = github.standin_host() if mode == "service" else github.host()
    with ProcSampler() as sampler:
        run = github.cli("launch", "--mode", mode, "--count", "2", hosts=(fake,))
        github.cli("launch", "--mode", mode, "--count", "1", hosts=(fake,))  # one removed: a remove token
    assert run.code == 0, run.err
    secrets = [*github.issued(), ADMIN]
    assert len(secrets) >= 3
    assert any("config.sh" in line or "run.sh" in line for line in sampler.seen)  # the sampler saw them
    output = unmasked("\n".join(github.outputs))
    for secret in secrets:
        assert not [line for line in sampler.seen if secret in line], "a secret on a command line"
        assert files_holding([fake.root], secret) == [], "a secret in a file left on the host"
        assert secret not in output
    for pid, names in environ_holders(github.issued()[0]).items():  # the first JIT config / token
        assert names == [f"ACTIONS_RUNNER_INPUT_{'JITCONFIG' if mode == 'jit' else 'TOKEN'}"], pid
