"""``python -m examples.demo``: the digits example end to end on the local forge (no token, no network).

1. copies ``examples/digits`` into a fresh git repository (a temp dir, or ``--workdir``);
2. commits the committed baseline run (``baseline/``) as the base commit;
3. restores the example's params, trains (prepare -> train -> evaluate) and commits the head: in the
   cml image through ``cml run`` when a Docker engine answers and has the image (``--image``, default
   ``cml:bench``, built with ``docker build --build-arg EXTRAS=bench -t cml:bench .``), else with
   this Python;
4. runs ``cml report --base HEAD~1 --post`` against the local forge;
5. prints the path of the HTML preview the local forge wrote (``.cml/preview/*.html``).

A temp dir is removed at the end unless ``--keep`` is given; the preview and the images it shows are
copied first to a stable folder (``--preview-dir``, default ``$TMPDIR/cml-demo-preview``, replaced
by each run), so the printed path still opens. A ``--workdir`` is the user's own and always stays.
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
#: What the demo repository ignores: the data, the model, the local forge and cml report's folder.
GITIGNORE = "/data/\n/model/\n/.cml/\n/cml-report/\n__pycache__/\n"
DEFAULT_PREVIEW_DIR = Path(tempfile.gettempdir()) / "cml-demo-preview"


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
    (workdir / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
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


def save_preview(repo: Path, dest: Path) -> Path | None:
    """Copy the local forge's newest preview and the images it links to ``dest`` (emptied first),
    keeping their layout (``preview/``, ``assets/``) so the page's relative links hold; the copied
    page's path, or None when the local forge wrote none."""
    previews = sorted((repo / ".cml" / "preview").glob("*.html"))
    if not previews:
        return None
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "preview").mkdir(parents=True)
    if (repo / ".cml" / "assets").is_dir():
        shutil.copytree(repo / ".cml" / "assets", dest / "assets")
    return Path(shutil.copy2(previews[-1], dest / "preview"))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The demo's options."""
    parser = argparse.ArgumentParser(prog="python -m examples.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="an empty directory to build the demo repo in (kept)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir the demo repo is built in")
    parser.add_argument(
        "--preview-dir",
        type=Path,
        default=DEFAULT_PREVIEW_DIR,
        help="where the preview is copied before the temp dir is removed (default: %(default)s)",
    )
    parser.add_argument("--image", default="cml:bench", help="cml image to train in when Docker has it")
    parser.add_argument("--no-container", action="store_true", help="always train with this Python")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the repo, train, report; print the preview path; remove a temp dir unless ``--keep``."""
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cml-demo-"))
    if args.workdir and workdir.exists() and any(workdir.iterdir()):
        print(f"demo: {workdir} is not empty", file=sys.stderr)
        return 2
    temporary = args.workdir is None and not args.keep
    try:
        return _demo(workdir, args, temporary)
    finally:
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)


def _demo(repo: Path, args: argparse.Namespace, temporary: bool) -> int:
    """Build, train, report in ``repo``; print the preview (copied out first when ``temporary``)."""
    env = child_env(os.environ)
    make_repo(repo)
    image = None if args.no_container else container_image(args.image, env)
    train(repo, env, image)
    post(repo, env)
    where = repo / ".cml" / "preview"
    preview = save_preview(repo, args.preview_dir) if temporary else max(where.glob("*.html"), default=None)
    if preview is None:
        print(f"demo: no preview was written under {where}", file=sys.stderr)
        return 1
    if temporary:
        print(f"demo: the repository in {repo} is removed on exit (--keep keeps it)")
    else:
        print(f"demo: the repository is {repo}; remove it with: rm -rf {repo}")
    print(f"report preview: {preview}")  # the last line: ./dev demo and the tests read it
    return 0


if __name__ == "__main__":
    sys.exit(main())
