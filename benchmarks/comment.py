"""How long a cold ``cml --help`` and a cold ``cml comment update`` take, against a fake GitHub.

Run: ``/work/main/.venv/bin/python benchmarks/comment.py``. Each figure is the median of 5 fresh
processes, printed in seconds and as a ratio to ``python -c pass``. Targets: ``--help`` <= 0.25 s,
``comment update`` <= 0.6 s and <= 4 requests.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.github import FakeGitHub  # noqa: E402

RUNS = 5
TOKEN = "tok-bench-0123456789abcdef"  # noqa: S105 (the fake's own token)
REPO, PR, SHA = "acme/app", 7, "a" * 40


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def median(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    return statistics.median(timed(argv, env, cwd) for _ in range(RUNS))


def actions_env(fake: FakeGitHub, tmp: Path) -> dict[str, str]:
    event = tmp / "event.json"
    pull = {"number": PR, "head": {"sha": SHA, "repo": {"full_name": REPO}}, "base": {"ref": "main"}}
    event.write_text(json.dumps({"pull_request": pull}))
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return {
        **keep,
        "PYTHONPATH": str(ROOT),
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": fake.url,
        "GITHUB_SERVER_URL": fake.root,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": "b" * 40,
        "REPO_TOKEN": TOKEN,
    }


def main() -> None:
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp_name, FakeGitHub() as fake:
        tmp = Path(tmp_name)
        fake.add_repo(REPO)
        fake.add_pr(REPO, PR, SHA)
        fake.add_token(TOKEN, "ada")
        for i in range(40):
            fake.add_issue_comment(REPO, PR, f"chatter {i}", "bob")
        env = actions_env(fake, tmp)
        (tmp / "report.md").write_text("# Metrics\n\n| metric | value |\n|---|---|\n| acc | 0.91 |\n")
        update = [py, "-m", "cml", "comment", "update", "report.md"]
        subprocess.run(update, env=env, cwd=tmp, check=True, capture_output=True)  # the comment exists now
        base = median([py, "-c", "pass"], env, tmp)
        helps = median([py, "-m", "cml", "--help"], env, tmp)
        fake.requests.clear()
        updates = median(update, env, tmp)
        per_run = len(fake.requests) / RUNS
        assert len(fake.repos[REPO].issue_comments) == 41, "update duplicated the comment"
    print(f"python -c pass          {base:6.3f} s")
    print(f"cml --help              {helps:6.3f} s  ({helps / base:4.1f}x python; target <= 0.25 s)")
    print(f"cml comment update      {updates:6.3f} s  ({updates / base:4.1f}x python; target <= 0.6 s)")
    print(f"requests per update     {per_run:6.1f}    (target <= 4)")


if __name__ == "__main__":
    main()
