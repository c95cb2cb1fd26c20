"""``cml runner launch|status|teardown|gc``: self-hosted runners on machines reached over SSH."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from cml.cli import Outcome, Subparsers
from cml.cli._forge import add_forge_options

if TYPE_CHECKING:
    from cml.runner.provision import GcOptions, LaunchOptions, TeardownOptions

_DESCRIPTION = """\
Turn machines you reach over SSH into self-hosted GitHub Actions or GitLab CI runners, show them, remove
them, and sweep away dead or idle ones. Host keys are checked against --known-hosts (or a key pinned in the
inventory); secrets reach the host on the remote command's stdin, never its argv, environment or a file.
Exit codes: 0 all hosts fine; else the worst host's: 130 interrupted, 5 token rejected, 4 host or forge
error, 3 missing configuration, 2 bad input. Every host finishes even when others fail."""

_VERBS = {
    "launch": "install and register runners (idempotent: a rerun changes nothing, new labels apply in place)",
    "status": "show each host's runners and what the forge says of them",
    "teardown": "stop and unregister each host's runners (through the API alone when a host is down)",
    "gc": "remove offline cml-* runners; with --idle-timeout, also runners idle that long",
}


def register(sub: Subparsers) -> None:
    """Add ``runner`` and its four verbs."""
    p = sub.add_parser(
        "runner",
        help="self-hosted runners over SSH (launch, status, teardown, gc)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True, help="each has its own --help")
    for verb, text in _VERBS.items():
        v = verbs.add_parser(verb, help=text, description=text)
        _common(v)
        if verb == "launch":
            _launch(v)
        if verb == "gc":
            v.add_argument(
                "--idle-timeout",
                metavar="DURATION",
                help="also remove runners idle this long (1800 = seconds, 30m, 2h, 1d; read on each host)",
            )
        if verb in ("launch", "teardown", "gc"):
            v.add_argument(
                "--dry-run", action="store_true", help="print the plan; register or remove nothing"
            )
        v.set_defaults(handler=handle)


def _common(p: argparse.ArgumentParser) -> None:
    """Hosts, SSH access, forge scope and output: shared by every verb."""
    p.add_argument(
        "-H", "--host", action="append", default=[], metavar="USER@HOST[:PORT]", help="a host (repeatable)"
    )
    p.add_argument(
        "--inventory", type=Path, metavar="FILE.yaml", help="hosts with user, port, key, labels, count, jump"
    )
    p.add_argument(
        "--identity",
        metavar="KEY",
        help="private key file (default: the key text in CML_SSH_KEY; no agent, no ~/.ssh/id_* lookup)",
    )
    p.add_argument(
        "--known-hosts",
        type=Path,
        metavar="FILE",
        help="known host keys (default: CML_KNOWN_HOSTS text, else ~/.ssh/known_hosts)",
    )
    p.add_argument(
        "--accept-new",
        action="store_true",
        help="trust and record a host key never seen before (never a changed one)",
    )
    p.add_argument("--name", help="runner name given at launch (default cml-<host>-<n>)")
    p.add_argument("--org", metavar="ORG", help="GitHub organisation scope (default: the repository)")
    p.add_argument("--group", metavar="GROUP", help="GitLab group scope (default: the project)")
    p.add_argument("--parallel", type=int, default=4, metavar="N", help="hosts worked on at once (default 4)")
    p.add_argument(
        "--timeout", type=float, metavar="S", help="give up on a host after S seconds (it is rolled back)"
    )
    p.add_argument("--json", action="store_true", help="print the per-host results as JSON")
    add_forge_options(p)


def _launch(p: argparse.ArgumentParser) -> None:
    """``launch``'s own options."""
    p.add_argument(
        "--labels",
        default="",
        metavar="A,B",
        help="labels added to the probed ones (self-hosted, linux, arch, gpu...)",
    )
    p.add_argument("--gpu", action="store_true", help="fail on a host without a working NVIDIA GPU")
    p.add_argument(
        "--gpu-setup", action="store_true", help="install and check the NVIDIA container toolkit for docker"
    )
    p.add_argument(
        "--mode",
        choices=("jit", "service", "single"),
        default="jit",
        help="jit: one job, then gone (default; GitLab: one job); service: a unit that stays; single: one job",
    )
    p.add_argument("--count", type=int, metavar="N", help="runners per host (default 1, or the inventory's)")
    p.add_argument(
        "--runner-package", type=Path, metavar="FILE", help="the runner package to install (air-gapped sites)"
    )
    p.add_argument(
        "--idle-timeout",
        metavar="DURATION",
        help="recorded on the host: `gc` removes the runner once idle this long (1800 = seconds, 30m)",
    )


def handle(args: argparse.Namespace, env: Mapping[str, str]) -> Outcome:
    """Run the verb on every host (:func:`cml.runner.command.run`), print the results; exit with the
    worst host's code."""
    from cml.cli import _forge
    from cml.runner import fleet
    from cml.runner.command import RunnerRequest, run

    request = RunnerRequest(
        verb=args.verb,
        options=_options(args),
        hosts=tuple(args.host),
        inventory=args.inventory,
        identity=args.identity,
        known_hosts=args.known_hosts,
        accept_new=args.accept_new,
        org=args.org,
        group=args.group,
        runner_package=getattr(args, "runner_package", None),
        settings=fleet.Settings(parallel=args.parallel, timeout=args.timeout),
        live=sys.stderr.isatty(),
        access=_forge.access(args),
    )
    done = run(request, env)
    results = done.results
    print(json.dumps([asdict(r) for r in results], indent=2) if args.json else fleet.text(results))
    for result in results:
        if not result.ok:  # one line per failed host, naming it once
            said = result.message if result.host in result.message else f"{result.host}: {result.message}"
            print(f"cml: error: {said}", file=sys.stderr)
    return Outcome(code=done.exit_code, result=done)


def _options(args: argparse.Namespace) -> LaunchOptions | TeardownOptions | GcOptions:
    """The verb's typed options; UsageError for a count, parallelism or timeout below 1."""
    from cml.errors import UsageError
    from cml.runner import provision
    from cml.runner.hosts import parse_labels
    from cml.runner.state import parse_duration

    for flag, value in (
        ("--parallel", args.parallel),
        ("--timeout", args.timeout),
        ("--count", getattr(args, "count", None)),
    ):
        if value is not None and value <= 0:
            raise UsageError(f"{flag} {value:g}: must be more than 0")
    idle = parse_duration(args.idle_timeout) if getattr(args, "idle_timeout", None) else None
    if args.verb == "launch":
        return provision.LaunchOptions(
            labels=parse_labels(args.labels),
            gpu=args.gpu,
            gpu_setup=args.gpu_setup,
            mode=args.mode,
            name=args.name,
            count=args.count,
            idle_timeout=idle,
            dry_run=args.dry_run,
        )
    if args.verb == "gc":
        return provision.GcOptions(
            prefix=args.name or provision.PREFIX, idle_timeout=idle, dry_run=args.dry_run
        )
    return provision.TeardownOptions(name=args.name, dry_run=getattr(args, "dry_run", False))
