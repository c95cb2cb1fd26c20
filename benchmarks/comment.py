"""A sticky ``cml comment update`` against the common sticky-comment recipe, over TLS.

Run: ``PYTHONPATH=$PWD /work/main/.venv/bin/python benchmarks/comment.py [--runs 5] [--only github]``.

A fake GitHub and a fake GitLab (tests/fakes) serve HTTPS on 127.0.0.1 with a self-signed certificate
made at start; both clients trust it through ``REQUESTS_CA_BUNDLE``. The PR/MR holds 0, 150 or 3,000
earlier comments by another user, ours (a cml sticky marker titled ``report``) being the oldest or
the newest of them, or absent (at 0). GitLab's commit-discussion target, which cannot be listed
newest first, is measured at 3,000 too.

Each scenario runs two whole fresh processes, alternated, ``--runs`` times each (a warm-up run of
each tool first): ``python -m cml comment update`` and a plain script doing what users do without
cml (Iterative's CML is a Node.js tool, not installable here): PyGithub's
``for c in pr.get_issue_comments(): if marker in c.body: c.edit(...)`` (oldest first, page after
page; ``per_page=100``, the most GitHub allows, and without PyGithub's default pauses of 0.25 s
between requests and 1 s between writes, which cml turns off too: both to be fair to it) and python-gitlab's
``mr.notes.list(iterator=True)`` likewise (GitLab's default note order is newest first, so that
recipe stops early by itself). Printed per tool: HTTP requests per run (from the fake's log) and
wall time (median, min-max); then the recipe/cml ratio of medians (> 1: cml is faster). After every
run the benchmark checks that exactly one comment carries that run's text and that no comment was
added (one, when there was none of ours), then puts the listing back as it was.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from _common import ROOT, use_test_fakes

from cml.comment import marker

use_test_fakes()  # the fake forges, loaded from the checkout without touching sys.path


from tests.fakes import tls  # noqa: E402
from tests.fakes.github import FakeGitHub  # noqa: E402
from tests.fakes.github_routes import pull_simple  # noqa: E402
from tests.fakes.gitlab import FakeGitLab  # noqa: E402
from tests.fakes.http import FakeServer, Reply, Request  # noqa: E402

TOKEN = "tok-bench-0123456789abcdef"  # noqa: S105 (the fakes' own token)
REPO, PR, SHA = "acme/app", 7, "a" * 40
TITLE = "report"
SEED = marker(TITLE, "5eed") + "\n"  # ours, as an earlier cml run left it
PRIOR = (0, 150, 3000)

Forge = Literal["github", "gitlab"]
Ours = Literal["none", "oldest", "newest"]

GITHUB_RECIPE = """
import os, pathlib
from github import Auth, Github
env = os.environ
body = env["BENCH_MARK"] + pathlib.Path("report.md").read_text()
gh = Github(
    auth=Auth.Token(env["BENCH_TOKEN"]), base_url=env["BENCH_API"], per_page=100,
    seconds_between_requests=0, seconds_between_writes=0,
)
pr = gh.get_repo(env["BENCH_REPO"], lazy=True).get_pull(int(env["BENCH_PR"]))
for comment in pr.get_issue_comments():
    if env["BENCH_FIND"] in comment.body:
        comment.edit(body)
        break
else:
    pr.create_issue_comment(body)
"""

GITLAB_RECIPE = """
import os, pathlib
import gitlab
env = os.environ
body = env["BENCH_MARK"] + pathlib.Path("report.md").read_text()
gl = gitlab.Gitlab(env["BENCH_URL"], private_token=env["BENCH_TOKEN"], per_page=100)
project = gl.projects.get(env["BENCH_PROJECT"], lazy=True)
if env["BENCH_TARGET"] == "commit":
    commit = project.commits.get(env["BENCH_SHA"], lazy=True)
    for thread in commit.discussions.list(iterator=True):
        first = thread.attributes["notes"][0]
        if env["BENCH_FIND"] in first["body"]:
            note = thread.notes.get(first["id"], lazy=True)
            note.body = body
            note.save()
            break
    else:
        commit.discussions.create({"body": body})
else:
    mr = project.mergerequests.get(int(env["BENCH_MR"]), lazy=True)
    for note in mr.notes.list(iterator=True):
        if env["BENCH_FIND"] in note.body:
            note.body = body
            note.save()
            break
    else:
        mr.notes.create({"body": body})
"""


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One listing to update: the forge, the target, how many earlier comments, where ours is."""

    forge: Forge
    target: Literal["pr", "commit"]
    prior: int
    ours: Ours

    @property
    def label(self) -> str:
        where = {"github": "GitHub PR", "gitlab": "GitLab MR"}[self.forge]
        if self.target == "commit":
            where = "GitLab commit"
        return f"{where:<13} {self.prior:>5,}  {self.ours:<6}"


@dataclass(frozen=True, kw_only=True)
class Stage:
    """A started fake holding one scenario's listing, and how to run each tool against it."""

    fake: FakeServer
    bodies: Callable[[], list[str]]  # every comment body on the target, oldest first
    trim: Callable[[int], None]  # drop comments after the first n
    cml: list[str]  # argv
    recipe: list[str]  # argv
    env: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class Figures:
    """One tool's runs on one scenario."""

    seconds: list[float]
    requests: list[int]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def text(self) -> str:
        reqs = sorted(set(self.requests))
        count = str(reqs[0]) if len(reqs) == 1 else f"{reqs[0]}-{reqs[-1]}"
        lo, hi = min(self.seconds), max(self.seconds)
        return f"{count:>5}  {self.median:5.2f} s ({lo:4.2f}-{hi:4.2f})"


def seeded(n: int, ours: Ours, add: Callable[[str, bool], None]) -> None:
    """Add ``n`` comments by another user, with ours (``SEED``) first, last, or not at all."""
    if ours == "oldest":
        add(SEED + "old report", True)
    for i in range(n):
        add(f"chatter {i}: looks good to me", False)
    if ours == "newest":
        add(SEED + "old report", True)


def base_env(cert: Path) -> dict[str, str]:
    """A clean environment: PATH/HOME/LANG, the worktree on PYTHONPATH, the fake's CA trusted."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return {**keep, "PYTHONPATH": str(ROOT), "REQUESTS_CA_BUNDLE": str(cert)}


def github_stage(sc: Scenario, cert: Path, key: Path, tmp: Path) -> Stage:
    """A fake GitHub over TLS with PR #7 and its comments; GitHub Actions variables for cml."""
    fake = FakeGitHub()
    tls.serve_tls(fake, cert, key)
    fake.start()
    repo = fake.add_repo(REPO)
    pr = fake.add_pr(REPO, PR, SHA)
    fake.add_token(TOKEN, "ada")

    def get_pull(req: Request, owner: str, name: str, number: str) -> Reply:
        """``GET /repos/{owner}/{repo}/pulls/{n}`` (docs.github.com/rest/pulls/pulls#get-a-pull-request),
        which the recipe's ``get_pull`` calls; the fakes list PRs only."""
        if isinstance(fake.auth(req), Reply) or int(number) != PR:
            return fake.error(404, "Not Found")
        return Reply(200, pull_simple(fake, repo, pr))

    fake.route("GET", r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)/pulls/(?P<number>[0-9]+)", get_pull)
    seeded(
        sc.prior, sc.ours, lambda body, mine: fake.add_issue_comment(REPO, PR, body, "ada" if mine else "bob")
    )
    event = tmp / "event.json"
    pull = {"number": PR, "head": {"sha": SHA, "repo": {"full_name": REPO}}, "base": {"ref": "main"}}
    event.write_text(json.dumps({"pull_request": pull}))
    env = {
        **base_env(cert),
        **{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": fake.url},
        **{
            "GITHUB_SERVER_URL": fake.root,
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event),
        },
        **{"GITHUB_SHA": "b" * 40, "REPO_TOKEN": TOKEN},
        **{"BENCH_TOKEN": TOKEN, "BENCH_API": fake.url, "BENCH_REPO": REPO, "BENCH_PR": str(PR)},
    }
    comments = repo.issue_comments
    return Stage(
        fake=fake,
        bodies=lambda: [c["body"] for c in comments],
        trim=lambda n: comments.__delitem__(slice(n, None)),
        cml=[sys.executable, "-m", "cml", "comment", "update", "report.md", "--watermark-title", TITLE],
        recipe=[sys.executable, str(tmp / "recipe_github.py")],
        env=env,
    )


def gitlab_stage(sc: Scenario, cert: Path, key: Path, tmp: Path) -> Stage:
    """A fake GitLab (under ``/gitlab``) over TLS with MR !7 and its notes or the commit's threads."""
    fake = FakeGitLab()
    tls.serve_tls(fake, cert, key)
    fake.start()
    fake.add_user("project_42_bot", TOKEN, bot=True)
    fake.add_user("alice", "glpat-alice-000000000000")
    project = fake.add_project("group/project", 42)
    fake.add_mr(project, PR, SHA)
    users = {u["username"]: u for u, _ in fake.tokens.values()}
    threads = project.discussions.setdefault(SHA, [])
    notes = project.notes.setdefault(("merge_requests", PR), [])

    def add(body: str, mine: bool) -> None:
        if sc.target == "pr":
            fake.add_note(project, "merge_requests", PR, body, "project_42_bot" if mine else "alice")
            return
        user = users["project_42_bot" if mine else "alice"]
        note = fake._note(user, body, "commit", SHA)  # what POST .../discussions stores
        threads.append({"id": secrets.token_hex(20), "individual_note": True, "notes": [note]})

    seeded(sc.prior, sc.ours, add)
    target = ["--target", "commit"] if sc.target == "commit" else []
    env = {
        **base_env(cert),
        **{"GITLAB_CI": "true", "CI_SERVER_URL": fake.url, "CI_API_V4_URL": fake.api},
        **{"CI_PROJECT_ID": "42", "CI_PROJECT_PATH": project.path, "CI_COMMIT_SHA": SHA},
        **{"CI_MERGE_REQUEST_IID": str(PR), "CI_JOB_NAME": TITLE, "REPO_TOKEN": TOKEN},
        **{"BENCH_URL": fake.url, "BENCH_TOKEN": TOKEN, "BENCH_PROJECT": "42", "BENCH_MR": str(PR)},
        **{"BENCH_SHA": SHA, "BENCH_TARGET": sc.target},
    }
    if sc.target == "commit":
        bodies, trim = (lambda: [t["notes"][0]["body"] for t in threads]), threads.__delitem__
    else:
        bodies, trim = (lambda: [n["body"] for n in notes]), notes.__delitem__
    return Stage(
        fake=fake,
        bodies=bodies,
        trim=lambda n: trim(slice(n, None)),
        cml=[
            sys.executable,
            "-m",
            "cml",
            "comment",
            "update",
            "report.md",
            "--watermark-title",
            TITLE,
            *target,
        ],
        recipe=[sys.executable, str(tmp / "recipe_gitlab.py")],
        env=env,
    )


def run_once(
    stage: Stage, argv: list[str], tag: str, tmp: Path, *, seeded_count: int, ours: Ours
) -> tuple[float, int]:
    """Run ``argv`` once as a fresh process; check what it left; put the listing back.

    Returns (wall seconds, requests the fake received). Raises AssertionError when the tool did not
    leave exactly one comment with this run's text, on ours (or a new one when there was none).
    """
    (tmp / "report.md").write_text(f"# Metrics\n\n| metric | value |\n|---|---|\n| acc | 0.91 |\n\n{tag}\n")
    stage.fake.requests.clear()
    start = time.perf_counter()
    done = subprocess.run(argv, env=stage.env, cwd=tmp, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(argv[1:3])} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    count = len(stage.fake.requests)
    bodies = stage.bodies()
    holding = [i for i, body in enumerate(bodies) if tag in body]
    expected = seeded_count + (ours == "none")
    assert len(bodies) == expected, f"{tag}: {len(bodies)} comments, expected {expected}"
    where = {"none": seeded_count, "oldest": 0, "newest": seeded_count - 1}[ours]
    assert holding == [where], f"{tag}: run text found at {holding}, expected at {where}"
    stage.trim(seeded_count)
    return seconds, count


def measure(sc: Scenario, runs: int, cert: Path, key: Path, tmp: Path) -> tuple[Figures, Figures]:
    """(cml, recipe) figures for ``sc``: a warm-up each, then ``runs`` alternated pairs."""
    stage = (github_stage if sc.forge == "github" else gitlab_stage)(sc, cert, key, tmp)
    try:
        count = len(stage.bodies())
        stage.env["BENCH_FIND"] = SEED.split(" run=")[0]  # what the recipe looks for: the title's marker
        stage.env["BENCH_MARK"] = marker(TITLE, "ec1be") + "\n"  # and writes: cml finds it next time
        got: dict[str, tuple[list[float], list[int]]] = {"cml": ([], []), "recipe": ([], [])}
        for i in range(-1, runs):
            order = ("cml", "recipe") if i % 2 == 0 else ("recipe", "cml")
            for tool in order:
                argv = stage.cml if tool == "cml" else stage.recipe
                seconds, requests = run_once(
                    stage, argv, f"[run {tool} {i}]", tmp, seeded_count=count, ours=sc.ours
                )
                if i >= 0:
                    got[tool][0].append(seconds)
                    got[tool][1].append(requests)
    finally:
        stage.fake.stop()
    return Figures(seconds=got["cml"][0], requests=got["cml"][1]), Figures(
        seconds=got["recipe"][0], requests=got["recipe"][1]
    )


def scenarios(only: str | None) -> list[Scenario]:
    """0 (none), 150 and 3,000 (oldest, newest) on a GitHub PR and a GitLab MR; a GitLab commit at 3,000."""
    found: list[Scenario] = []
    for forge in ("github", "gitlab"):
        if only in (None, forge):
            found.append(Scenario(forge=forge, target="pr", prior=0, ours="none"))
            found += [
                Scenario(forge=forge, target="pr", prior=n, ours=o)
                for n in PRIOR[1:]
                for o in ("oldest", "newest")
            ]
    if only in (None, "gitlab"):
        found += [Scenario(forge="gitlab", target="commit", prior=3000, ours=o) for o in ("oldest", "newest")]
    return found


def startup(env: dict[str, str], tmp: Path, runs: int) -> str:
    """Median seconds of ``python -c pass`` and ``cml --help``, alternated, as one line."""
    pairs = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "cml --help": [sys.executable, "-m", "cml", "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in pairs}
    for _ in range(runs):
        for name, argv in pairs.items():
            start = time.perf_counter()
            subprocess.run(argv, env=env, cwd=tmp, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    return "   ".join(
        f"{name} {statistics.median(t):.2f} s ({min(t):.2f}-{max(t):.2f})" for name, t in times.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="timed runs of each tool per scenario (default 5)"
    )
    parser.add_argument("--only", choices=("github", "gitlab"), help="one forge only")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows: list[tuple[Scenario, Figures, Figures]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        cert, key = tls.self_signed(tmp)
        (tmp / "recipe_github.py").write_text(GITHUB_RECIPE)
        (tmp / "recipe_gitlab.py").write_text(GITLAB_RECIPE)
        print(
            f"TLS on 127.0.0.1, {args.runs} alternated runs per tool; load average {load:.1f} on {os.cpu_count()} cores"
        )
        print(f"startup: {startup(base_env(cert), tmp, args.runs)}\n")
        print(
            f"{'target':<13} {'prior':>5}  {'ours':<6} | {'cml: reqs  wall median (min-max)':<33} | "
            f"{'recipe: reqs  wall median (min-max)':<35} | recipe/cml"
        )
        for sc in scenarios(args.only):
            ours, theirs = measure(sc, args.runs, cert, key, tmp)
            rows.append((sc, ours, theirs))
            print(
                f"{sc.label} | {ours.text():<33} | {theirs.text():<35} | {theirs.median / ours.median:5.2f}x",
                flush=True,
            )
    print(
        "\nrecipe: PyGithub reads oldest first, page after page; python-gitlab's default note order is newest\n"
        "first; commit threads are listed oldest first by both. Ratio > 1: cml is faster. Iterative's CML\n"
        "(npm @dvcorg/cml) is not installable here, so it is not measured.\n"
    )
    targets(rows)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


def targets(rows: list[tuple[Scenario, Figures, Figures]]) -> None:
    """Print the targets: ours-newest requests flat in the comment count, the overall time ratio."""
    for forge in ("github", "gitlab"):
        newest = {
            sc.prior: max(ours.requests)
            for sc, ours, _ in rows
            if sc.forge == forge and sc.target == "pr" and sc.ours == "newest"
        }
        if newest:
            flat = len(set(newest.values())) == 1 and newest.get(3000, 99) <= 4
            print(
                f"target {forge} ours-newest requests independent of the count and <= 4 at 3,000: "
                f"{newest} -> {'met' if flat else 'MISSED'}"
            )
    for forge in ("github", "gitlab", None):
        ratios = [theirs.median / ours.median for sc, ours, theirs in rows if forge in (None, sc.forge)]
        if ratios:
            mean = math.exp(statistics.fmean(math.log(r) for r in ratios))
            print(
                f"wall time recipe/cml, {forge or 'overall'} (geometric mean of {len(ratios)} medians): {mean:.2f}x"
            )


if __name__ == "__main__":
    main()
