"""``python -m examples.demo``: the digits example end to end on the local forge (no token, no network).

1. copies ``examples/digits`` into a fresh git repository (a temp dir, or ``--workdir``);
2. commits the committed baseline run (``baseline/``) as the base commit;
3. restores the example's params, trains (prepare -> train -> evaluate) and commits the head: in the
   cml image through ``cml run`` when a Docker engine answers and has the image (``--image``, default
   ``cml:bench``, built with ``docker build --build-arg EXTRAS=bench -t cml:bench .``), else with
   this Python;
4. runs ``cml report --base HEAD~1 --post`` against the local forge;
5. prints the path of the HTML preview the local forge wrote (``.cml/preview/*.html``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from cml import proc

EXAMPLE = Path(__file__).resolve().parent / "digits"
STAGES = ("prepare", "train", "evaluate")
TITLE = "digits"
_OUTPUTS = frozenset({"data", "model", "plots", "metrics.json", "dvc.lock", ".cml", ".dvc"})
_CI_VARS = ("GITHUB_ACTIONS", "GITLAB_CI", "CI")


def child_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment for every child: CI detection off (the local forge), TensorFlow quiet."""
    env = {k: v for k, v in environ.items() if k not in _CI_VARS}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` as the demo's own committer; return its stdout."""
    ident = ("-c", "user.name=cml demo", "-c", "user.email=demo@cml.invalid", "-c", "commit.gpgsign=false")
    return proc.run(["git", *ident, *args], cwd=repo).stdout


def _ignore(folder: str, names: list[str]) -> set[str]:
    """Skip a previous run's outputs at the example's top level, and caches anywhere."""
    top = Path(folder) == EXAMPLE
    return {n for n in names if n == "__pycache__" or (top and n in _OUTPUTS)}


def make_repo(workdir: Path) -> Path:
    """Copy the example (without outputs) into ``workdir`` and commit the baseline run as the base."""
    shutil.copytree(EXAMPLE, workdir, ignore=_ignore, dirs_exist_ok=True)
    (workdir / ".gitignore").write_text("/data/\n/model/\n/.cml/\n__pycache__/\n", encoding="utf-8")
    shutil.copy2(workdir / "baseline" / "params.yaml", workdir / "params.yaml")
    shutil.copy2(workdir / "baseline" / "metrics.json", workdir / "metrics.json")
    shutil.copytree(workdir / "baseline" / "plots", workdir / "plots")
    git(workdir, "init", "-q", "-b", "main")
    git(workdir, "add", "-A")
    git(workdir, "commit", "-q", "-m", "baseline: 6 epochs, 8 filters")
    return workdir


def container_image(image: str, env: Mapping[str, str]) -> str | None:
    """``image`` when a Docker engine answers and already has it (nothing is pulled), else None."""
    try:
        from cml.container import engine

        client = engine.connect(env)
        client.images.get(image)
    except Exception:  # no SDK, no engine, no image: train with this Python instead
        return None
    return image


def train(repo: Path, env: Mapping[str, str], image: str | None) -> None:
    """Restore the example's params.yaml, run every stage (in ``image`` if given), commit the results."""
    shutil.copy2(EXAMPLE / "params.yaml", repo / "params.yaml")
    where = f"in the container {image}" if image else f"with {sys.executable}"
    print(f"demo: training {where}")
    for stage in STAGES:
        command = ["python", f"src/{stage}.py"] if image else [sys.executable, f"src/{stage}.py"]
        if image:
            run = [
                "run",
                "--image",
                image,
                "--pull",
                "never",
                "--network",
                "none",
                "--env",
                "TF_CPP_MIN_LOG_LEVEL",
            ]
            command = [sys.executable, "-m", "cml", *run, "--", *command]
        done = proc.run(command, cwd=repo, env=env)
        print(done.stdout.strip())
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "train: 12 epochs, 16 filters")


def post(repo: Path, env: Mapping[str, str]) -> None:
    """``cml report --base HEAD~1 --post``: metrics, params, plots and confusion from dvc.yaml."""
    cml = [sys.executable, "-m", "cml"]
    proc.run([*cml, "report", "--base", "HEAD~1", "--title", TITLE, "--post"], cwd=repo, env=env)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the repo, train, report; print the preview path. Returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m examples.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="an empty directory to build the demo repo in")
    parser.add_argument("--image", default="cml:bench", help="cml image to train in when Docker has it")
    parser.add_argument("--no-container", action="store_true", help="always train with this Python")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cml-demo-"))
    if workdir.exists() and any(workdir.iterdir()):
        print(f"demo: {workdir} is not empty", file=sys.stderr)
        return 2
    env = child_env(os.environ)
    repo = make_repo(workdir)
    image = None if args.no_container else container_image(args.image, env)
    train(repo, env, image)
    post(repo, env)
    previews = sorted((repo / ".cml" / "preview").glob("*.html"))
    if not previews:
        print(f"demo: no preview was written under {repo / '.cml' / 'preview'}", file=sys.stderr)
        return 1
    print(f"report preview: {previews[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
