"""cml.action (the glue the composite actions run) and the action.yml files that call it."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cml import action
from cml.check import Checked
from cml.cli import Outcome
from cml.comment import Posted
from cml.errors import UsageError
from cml.publish import Published
from cml.report.build import ReportData
from cml.report.gate import GateResult
from cml.report.plots import BROWSER_NAMES
from cml.report.run import ReportResult
from tests.fakes.runner_files import FileCommandError, parse

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = {"run": ROOT / "action.yml", **{name: ROOT / name / "action.yml" for name in action.SPECS}}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def test_run_splits_the_command_like_a_shell_without_expanding() -> None:
    env = {"CML_INPUT_COMMAND": "cml comment update 'my report.md' --watermark-title $HOME"}
    argv = action.build_argv("run", env)
    assert argv == ["comment", "update", "my report.md", "--watermark-title", "$HOME"]


def test_run_appends_args() -> None:
    env = {"CML_INPUT_COMMAND": "comment update r.md", "CML_INPUT_ARGS": "--target 'pr/3'"}
    assert action.build_argv("run", env) == ["comment", "update", "r.md", "--target", "pr/3"]
    with pytest.raises(UsageError, match="input 'args'"):
        action.build_argv("report", {"CML_INPUT_ARGS": '"'})


@pytest.mark.parametrize("command", ["", "   ", "cml", "comment 'unclosed"])
def test_run_rejects_an_empty_or_unbalanced_command(command: str) -> None:
    with pytest.raises(UsageError, match="input 'command'"):
        action.build_argv("run", {"CML_INPUT_COMMAND": command})


def test_report_inputs_become_flags() -> None:
    env = {
        "CML_INPUT_METRICS": "metrics.json\n\n  eval/metrics.json  \n",
        "CML_INPUT_PLOTS": "plots/roc.json:fpr:tpr",
        "CML_INPUT_RUNS": "runs/a runs/b",
        "CML_INPUT_SORT_BY": "accuracy",
        "CML_INPUT_FAIL_ON": "accuracy < 0.9\nloss > 1",
        "CML_INPUT_ALL": "false",
        "CML_INPUT_POST": "true",
        "CML_INPUT_ARGS": "--json",
    }
    assert action.build_argv("report", env) == [
        "report",
        "--metrics", "metrics.json",
        "--metrics", "eval/metrics.json",
        "--plot", "plots/roc.json:fpr:tpr",
        "--runs", "runs/a", "runs/b",
        "--sort-by", "accuracy",
        "--fail-on", "accuracy < 0.9",
        "--fail-on", "loss > 1",
        "--post",
        "--json",
    ]  # fmt: skip


def test_runs_globs_are_expanded_sorted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("run-b", "run-a", "other"):
        (tmp_path / "runs" / name).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    argv = action.build_argv("report", {"CML_INPUT_RUNS": "runs/run-* runs/other extra/*"})
    assert argv == ["report", "--runs", "runs/run-a", "runs/run-b", "runs/other", "extra/*"]


def test_runner_and_bench_commands() -> None:
    assert action.build_argv("runner", {"CML_INPUT_HOST": "me@gpu1", "CML_INPUT_SINGLE": "True"}) == [
        "runner", "launch", "--host", "me@gpu1", "--mode=single",
    ]  # fmt: skip
    assert action.build_argv("bench", {"CML_INPUT_MODEL": "m.keras"}) == ["bench", "m.keras"]


def test_bench_inputs_become_the_positional_model_and_flags() -> None:
    env = {
        "CML_INPUT_MODEL": "model/model.keras",
        "CML_INPUT_TARGET": "local\nadb://R58M\n",
        "CML_INPUT_VARIANTS": "fp32,int8",
        "CML_INPUT_EVAL": "data/eval.npz",
        "CML_INPUT_THREADS": "1,4",
        "CML_INPUT_FAIL_ON": "int8.p50 > +10%",
        "CML_INPUT_TITLE": "Mobile benchmark",
        "CML_INPUT_SETUP": "false",
        "CML_INPUT_POST": "true",
    }
    assert action.build_argv("bench", env) == [
        "bench", "model/model.keras",
        "--target", "local", "--target", "adb://R58M",
        "--variants", "fp32,int8",
        "--eval", "data/eval.npz",
        "--threads", "1,4",
        "--fail-on", "int8.p50 > +10%",
        "--title", "Mobile benchmark",
        "--post",
    ]  # fmt: skip


def test_bench_action_defaults_match_the_cli() -> None:
    inputs = load(ACTIONS["bench"])["inputs"]
    assert inputs["model"]["required"] is True
    assert inputs["variants"]["default"] == "fp32,dynamic,fp16,int8"
    assert inputs["title"]["default"] == "Mobile benchmark"
    assert "adb://SERIAL" in inputs["target"]["description"]
    assert "adb:SERIAL" not in ACTIONS["bench"].read_text(encoding="utf-8")
    from cml.cli import build_parser

    args = build_parser().parse_args(["bench", "m.keras"])
    assert (args.variants, args.threads) == (inputs["variants"]["default"], inputs["threads"]["default"])
    assert (args.runs, args.repeats) == (int(inputs["runs"]["default"]), int(inputs["repeats"]["default"]))
    assert args.title == inputs["title"]["default"]


def test_a_model_input_that_reads_as_an_option_is_refused() -> None:
    with pytest.raises(UsageError, match="input 'model': '--help' starts with '-'"):
        action.build_argv("bench", {"CML_INPUT_MODEL": "--help"})


def _launch_options(env: dict[str, str]) -> Any:
    """What ``cml runner launch`` makes of the argv the runner action builds from ``env``."""
    from cml.cli import build_parser
    from cml.cli.runner import _options

    return _options(build_parser().parse_args(action.build_argv("runner", env)))


def test_the_runner_actions_old_inputs_map_onto_the_new_flags() -> None:
    """`single: true` is `--mode single` (it wins over `mode`), `idle-timeout` in seconds is a duration,
    one host a line; the defaults of action.yml give a JIT runner recording a 30-minute idle timeout."""
    inputs = load(ACTIONS["runner"])["inputs"]
    defaults = {action.env_name(k): str(v.get("default", "")) for k, v in inputs.items()}
    env = {**defaults, "CML_INPUT_HOST": "me@gpu1\n\n me@gpu2 \n"}
    argv = action.build_argv("runner", env)
    assert argv[:6] == ["runner", "launch", "--host", "me@gpu1", "--host", "me@gpu2"]
    opts = _launch_options(env)
    assert (opts.mode, opts.idle_timeout, opts.labels, opts.name, opts.count) == ("jit", 1800, (), None, None)
    old = {**env, "CML_INPUT_SINGLE": "true", "CML_INPUT_MODE": "service", "CML_INPUT_IDLE_TIMEOUT": "30m"}
    opts = _launch_options(old)
    assert (opts.mode, opts.idle_timeout) == ("single", 1800)
    gpu = {**env, "CML_INPUT_GPU": "true", "CML_INPUT_GPU_SETUP": "true", "CML_INPUT_LABELS": "a,b"}
    opts = _launch_options({**gpu, "CML_INPUT_NAME": "trainer", "CML_INPUT_COUNT": "2"})
    assert (opts.gpu, opts.gpu_setup, opts.labels, opts.name, opts.count) == (
        True,
        True,
        ("a", "b"),
        "trainer",
        2,
    )


def test_the_runner_action_passes_the_key_and_known_hosts_as_env_only() -> None:
    run = load(ACTIONS["runner"])["runs"]["steps"][-1]
    assert run["env"]["CML_SSH_KEY"] == "${{ inputs.ssh-key }}"
    assert run["env"]["CML_KNOWN_HOSTS"] == "${{ inputs.known-hosts }}"
    assert run["env"]["REPO_TOKEN"] == "${{ inputs.token }}"
    assert "ssh-key" not in {flag.input for flag in action.SPECS["runner"][1]}


def test_a_bool_input_must_be_true_or_false() -> None:
    with pytest.raises(UsageError, match="input 'post': expected true or false, got 'yes'"):
        action.build_argv("report", {"CML_INPUT_POST": "yes"})


def test_unknown_action() -> None:
    with pytest.raises(UsageError, match="unknown action 'deploy'"):
        action.build_argv("deploy", {})


POSTED = Posted(action="updated", url="https://github.com/o/r/pull/1#issuecomment-2", id="2")


@pytest.mark.parametrize(
    ("argv", "outcome", "expected"),
    [
        (["comment", "update", "r.md"], Outcome(code=0, result=POSTED), ("pass", "r.md", POSTED.url)),
        (["report", "--output", "out", "--post"], Outcome(code=8), ("fail", "out", "")),
        (["publish", "x.png"], Outcome(code=3), ("error", "", "")),
        (
            ["check", "create", "r.md", "--conclusion", "success"],
            Outcome(code=0, result=Checked(url="https://x/c/1", name="cml", conclusion="success", title="t")),
            ("pass", "", "https://x/c/1"),
        ),
        (
            ["publish", "p.png", "--md"],
            Outcome(
                code=0, result=Published(file=Path("p.png"), resolved=Path("/w/p.png"), url="https://x/p")
            ),
            ("pass", "", "https://x/p"),
        ),
    ],
)
def test_outputs_come_from_the_typed_result(
    argv: list[str], outcome: Outcome, expected: tuple[str, str, str]
) -> None:
    got = action.outputs(argv, outcome)
    assert (got["gate"], got["report"], got["url"]) == expected
    assert got["exit-code"] == str(outcome.code)


def _report_result(folder: Path, posted: Posted | None) -> ReportResult:
    return ReportResult(
        report=folder / "report.md",
        images=(),
        plots=0,
        gate=GateResult(checks=()),
        baseline=None,
        data=ReportData(title="t", head_sha="0" * 40),
        posted=posted,
    )


def test_a_report_results_folder_and_posted_url_are_the_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    got = action.outputs(["report", "--json"], Outcome(code=0, result=_report_result(tmp_path / "o", POSTED)))
    assert (got["report"], got["url"]) == ("o", POSTED.url)  # the default folder too, not only --output
    elsewhere = tmp_path.parent / "elsewhere"
    got = action.outputs(["report"], Outcome(code=8, result=_report_result(elsewhere, None)))
    assert (got["gate"], got["report"], got["url"]) == ("fail", str(elsewhere.resolve()), "")


def test_json_output_still_sets_url_from_the_posted_comment(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With ``--json`` cml prints no ``updated URL`` line: the url comes from the result, not stdout."""
    monkeypatch.chdir(repo)
    (repo / "report.md").write_text("# accuracy 0.97\n", encoding="utf-8")
    out = repo / "github_output"
    env = {
        "CML_INPUT_COMMAND": "comment update report.md",
        "CML_INPUT_ARGS": "--json",
        "GITHUB_OUTPUT": str(out),
    }
    assert action.main(["run"], env) == 0
    printed = json.loads(capsys.readouterr().out)
    values = parse(out.read_text(encoding="utf-8"))
    assert values["url"] == printed["url"]
    assert values["url"].startswith("file://")
    assert (values["gate"], values["report"]) == ("pass", "report.md")


def test_the_report_action_with_json_sets_url_and_report(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    (repo / "metrics.json").write_text('{"accuracy": 0.5}\n', encoding="utf-8")
    out = repo / "github_output"
    env = {
        "CML_INPUT_METRICS": "metrics.json",
        "CML_INPUT_POST": "true",
        "CML_INPUT_FAIL_ON": "accuracy < 0.9",
        "CML_INPUT_ARGS": "--json",
        "GITHUB_OUTPUT": str(out),
    }
    assert action.main(["report"], env) == 8  # the gate failed; the result is still there
    printed = json.loads(capsys.readouterr().out)
    values = parse(out.read_text(encoding="utf-8"))
    assert printed["posted"]["action"] == "created"
    assert values["url"] == printed["posted"]["url"]
    assert (values["gate"], values["report"], values["exit-code"]) == ("fail", "cml-report", "8")


def test_main_posts_to_the_local_forge_and_writes_step_outputs(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    (repo / "report.md").write_text("# accuracy 0.97\n", encoding="utf-8")
    out = repo / "github_output"
    command = "comment update report.md --watermark-title digits"
    env = {"CML_INPUT_COMMAND": command, "GITHUB_OUTPUT": str(out)}
    assert action.main(["run"], env) == 0
    values = parse(out.read_text(encoding="utf-8"))
    assert set(values) == {"exit-code", "gate", "url", "report"}
    assert values["gate"] == "pass"
    assert values["report"] == "report.md"
    assert values["url"] in capsys.readouterr().out
    preview = Path(values["url"].removeprefix("file://").split("#")[0])
    assert "accuracy 0.97" in preview.read_text(encoding="utf-8")


def test_main_passes_cml_exit_codes_through(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    out = repo / "github_output"
    env = {"CML_INPUT_COMMAND": "comment update missing.md", "GITHUB_OUTPUT": str(out)}
    assert action.main(["run"], env) == 2
    values = parse(out.read_text(encoding="utf-8"))
    assert (values["gate"], values["url"], values["exit-code"]) == ("error", "", "2")
    assert action.main(["run"], {"CML_INPUT_COMMAND": "comment --no-such-flag"}) == 2


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_no_expression_inside_a_run_script(name: str) -> None:
    for step in load(ACTIONS[name])["runs"]["steps"]:
        where = f"{name}: step {step.get('name')!r}"
        assert "${{" not in step.get("run", ""), f"{where} puts an expression in run:"


@pytest.mark.parametrize("name", sorted(action.SPECS))
def test_every_spec_input_is_declared_and_passed_as_env(name: str) -> None:
    data = load(ACTIONS[name])
    run = data["runs"]["steps"][-1]
    for flag in action.SPECS[name][1]:
        assert flag.input in data["inputs"], f"{name}/action.yml lacks input {flag.input!r}"
        assert run["env"][action.env_name(flag.input)] == f"${{{{ inputs.{flag.input} }}}}"
    assert run["run"] == f'"$CML_VENV/bin/python" -m cml.action {name}'
    assert run["env"]["REPO_TOKEN"] == "${{ inputs.token }}"
    assert run["env"]["CML_VENV"] == "${{ steps.key.outputs.venv }}"


@pytest.mark.parametrize("name", sorted(action.SPECS))
def test_sub_actions_install_cml_like_the_main_action(name: str) -> None:
    """The same steps before cml runs; only the runner action, which draws no plots, looks for no Chromium."""

    def install_steps(path: Path, *, browser: bool = True) -> str:
        steps = [s for s in load(path)["runs"]["steps"][:-1] if browser or s.get("id") != "browser"]
        return yaml.safe_dump(steps).replace("/../action/", "/action/")

    plots = name != "runner"
    assert install_steps(ACTIONS[name]) == install_steps(ACTIONS["run"], browser=plots)
    assert load(ACTIONS[name])["outputs"] == load(ACTIONS["run"])["outputs"]
    run_env = load(ACTIONS[name])["runs"]["steps"][-1]["env"]
    assert ("BROWSER_PATH" in run_env) is plots
    assert ("chromium" in load(ACTIONS[name])["inputs"]) is plots


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_the_first_step_refuses_unsupported_runners(name: str) -> None:
    first = load(ACTIONS[name])["runs"]["steps"][0]
    assert first["run"].endswith('action/guard.sh"')
    assert first["shell"] == "bash"
    assert "if" not in first


@pytest.mark.parametrize("name", ["run", "report", "bench"])
def test_plots_get_the_chromium_the_browser_step_found(name: str) -> None:
    data = load(ACTIONS[name])
    steps = {s.get("id"): s for s in data["runs"]["steps"]}
    assert steps["browser"]["env"]["CML_CHROMIUM"] == "${{ inputs.chromium }}"
    assert steps["cml"]["env"]["BROWSER_PATH"] == "${{ steps.browser.outputs.path }}"
    assert data["inputs"]["chromium"]["default"] == "auto"


def test_the_browser_script_looks_for_the_names_cml_looks_for() -> None:
    """browser.sh's names are cml.report.plots.BROWSER_NAMES, in the same order."""
    text = (ROOT / "action" / "browser.sh").read_text(encoding="utf-8")
    names = re.search(r'^names="([^"]*)"$', text, re.MULTILINE)
    assert names is not None
    assert tuple(names[1].split()) == BROWSER_NAMES


@pytest.mark.parametrize(
    "values",
    [
        {"url": "https://x/1", "gate": "pass"},
        {"report": "line one\nline two\n\nafter a blank line", "gate": "fail"},
        {"report": "EOF\nurl=https://evil\ngate<<EOF\nghadelimiter_0123", "exit-code": "8"},
        {"report": "", "url": "trailing newline\n"},
    ],
)
def test_outputs_are_written_in_the_heredoc_form_and_read_back_unchanged(values: dict[str, str]) -> None:
    text = action.output_lines(values)
    assert parse(text) == values
    headers = [line for line in text.splitlines() if "<<ghadelimiter_" in line]
    assert [h.split("<<")[0] for h in headers] == list(values)


def test_a_delimiter_that_occurs_in_a_value_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["aaaa", "aaaa", "bbbb"])
    monkeypatch.setattr(action.secrets, "token_hex", lambda _n: next(draws))
    values = {"report": "text\nghadelimiter_aaaa\ngate=pass", "gate": "fail"}
    text = action.output_lines(values)
    assert "report<<ghadelimiter_bbbb\n" in text
    assert parse(text) == values
    naive = "report<<ghadelimiter_aaaa\ntext\nghadelimiter_aaaa\ngate=pass\nghadelimiter_aaaa\n"
    with pytest.raises(FileCommandError, match="Invalid format 'ghadelimiter_aaaa'"):
        parse(naive)  # what a fixed delimiter would have given: the value cut short, then a bad line


def test_main_appends_to_the_output_file(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    out = repo / "github_output"
    out.write_text("earlier=kept\n", encoding="utf-8")
    env = {"CML_INPUT_COMMAND": "comment update missing.md", "GITHUB_OUTPUT": str(out)}
    assert action.main(["run"], env) == 2
    values = parse(out.read_text(encoding="utf-8"))
    assert values["earlier"] == "kept"
    assert values["gate"] == "error"


def test_main_action_inputs() -> None:
    inputs = load(ACTIONS["run"])["inputs"]
    assert inputs["command"]["required"] is True
    assert inputs["token"]["default"] == "${{ github.token }}"
    assert {"python-version", "extras", "working-directory"} <= set(inputs)


def test_the_cache_is_keyed_on_pyproject() -> None:
    steps = load(ACTIONS["run"])["runs"]["steps"]
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert "steps.key.outputs.key" in cache["with"]["key"]
    assert re.search(r"pyproject\.toml", (ROOT / "action" / "key.sh").read_text(encoding="utf-8"))


def test_install_script_refuses_odd_extras(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CML_PYTHON": "/nonexistent/python", "CML_VENV": str(tmp_path / "venv")}
    done = subprocess.run(
        [str(ROOT / "action" / "install.sh")],
        env={**env, "CML_EXTRAS": "bench]; rm -rf ~ #"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "input 'extras' must be comma-separated names" in done.stderr
    assert not (tmp_path / "venv").exists()


def test_cache_key_script_hashes_pyproject_and_names_one_venv_per_python_and_extras() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "RUNNER_TEMP": "/rt",
        "CML_PYTHON_VERSION": "3.11.9",
        "CML_EXTRAS": "bench,x",
    }
    done = subprocess.run(
        [str(ROOT / "action" / "key.sh")], env=env, capture_output=True, text=True, check=True
    )
    hashed = [ROOT / "pyproject.toml", ROOT / "constraints.txt"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in hashed if p.exists())).hexdigest()
    assert done.stdout == f"key={digest[:20]}\nvenv=/rt/cml-venv-py3.11.9-bench_x\n"


def test_our_ci_runs_the_action_on_every_supported_runner_and_sees_windows_refused() -> None:
    jobs = load(ROOT / ".github" / "workflows" / "ci.yml")["jobs"]
    matrix = jobs["action"]["strategy"]["matrix"]["os"]
    assert matrix == ["ubuntu-latest", "ubuntu-24.04-arm", "macos-latest"]
    assert jobs["action"]["runs-on"] == "${{ matrix.os }}"
    ours = [s for s in jobs["action"]["steps"] if s.get("uses") == "./"]
    assert "--plot" in ours[0]["with"]["command"]  # a Chromium must be found or installed
    assert ours[1]["env"] == {"PIP_NO_INDEX": "1"}  # the second run takes the cache-hit path
    windows = jobs["action-windows"]
    assert windows["runs-on"] == "windows-latest"
    refused = next(s for s in windows["steps"] if s.get("uses") == "./")
    assert refused["continue-on-error"] is True
    check = windows["steps"][-1]
    assert check["env"]["OUTCOME"] == f"${{{{ steps.{refused['id']}.outcome }}}}"  # failure
    assert "action/guard.sh" in check["run"]
