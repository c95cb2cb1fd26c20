"""``cml bench`` flags: parsing, one-line errors (exit 2) before any work, and a fast ``--help``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cml.cli import main

ROOT = Path(__file__).resolve().parents[3]
HEAVY = (
    "tensorflow",
    "numpy",
    "ai_edge_litert",
    "plotly",
    "kaleido",
    "paramiko",
    "docker",
    "github",
    "gitlab",
)


@pytest.mark.parametrize("argv", [["--help"], ["bench", "--help"]])
def test_help_imports_nothing_heavy(argv: list[str]) -> None:
    code = (
        "import sys\nfrom cml.cli import main\n"
        f"try:\n    main({argv!r}, {{}})\nexcept SystemExit:\n    pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
        "print('cml.bench.run' in sys.modules, 'cml.bench.results' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.splitlines()[-2:] == ["[]", "False False"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--variants", "fp32,int4"], "cml: error: --variants 'fp32,int4': expected names from fp32,dynamic,fp16,int8"),
        (["--variants", ","], "cml: error: --variants ',': expected names"),
        (["--threads", "0"], "cml: error: --threads '0': expected thread counts like 1,4"),
        (["--threads", "1,x"], "cml: error: --threads '1,x': expected thread counts like 1,4"),
        (["--runs", "0"], "cml: error: --runs 0: too small"),
        (["--min-secs", "-1"], "cml: error: --min-secs -1.0: expected 0 to 3600 seconds"),
        (["--fail-on", "int8.p50 >> 3"], "cml: error: --fail-on 'int8.p50 >> 3': expected METRIC OP VALUE"),
    ],
)  # fmt: skip
def test_bad_flags_are_one_line_exit_2(
    flags: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "m.keras", *flags], {}) == 2
    out, err = capsys.readouterr()
    assert err.startswith(message)
    assert err.count("\n") == 1
    assert out == ""
    assert not (tmp_path / "cml-bench").exists()


def test_the_model_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["bench"], {})
    assert info.value.code == 2
    assert "the following arguments are required: MODEL" in capsys.readouterr().err


def test_readme_documents_every_flag() -> None:
    from cml.cli import build_parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### `cml bench MODEL`") : readme.index("### The image")]
    sub = build_parser()._subparsers._group_actions[0].choices["bench"]  # type: ignore[union-attr]
    flags = {s for a in sub._actions for s in a.option_strings if s.startswith("--")} - {"--help", "--debug"}
    missing = sorted(f for f in flags if f not in section)
    assert not missing, f"README's cml bench section lacks {missing}"
