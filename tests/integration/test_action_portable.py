"""The action's shell scripts (action/*.sh) as hosted runners run them: under bash and under dash (POSIX
sh, what /bin/sh is on Ubuntu), with a PATH that lacks the GNU-only tools macOS does not have, and with a
cache hit that must not reach a package index.

PATHs here are folders of links to this machine's tools minus the ones a test takes away; network tools
(pip, curl, apt-get, sudo) are stand-ins that log their argv. The real-interpreter cache hit, where cml
then runs, is in test_action_run.py.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
import yaml

from tests.fakes.runner_files import parse

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action"
SHELLS = ["bash", "dash"]
#: What a Chromium lookup must not find on this machine's own PATH.
BROWSERS = {
    "chromium-headless-shell", "chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "chrome",
}  # fmt: skip


def tools(where: Path, *, without: Iterable[str] = ()) -> Path:
    """A folder of links to every program in /usr/bin and /bin except ``without`` and any browser."""
    where.mkdir(parents=True, exist_ok=True)
    drop = set(without) | BROWSERS
    for folder in (Path("/usr/bin"), Path("/bin")):
        for tool in folder.iterdir():
            link = where / tool.name
            if tool.name not in drop and not link.exists() and not link.is_symlink():
                link.symlink_to(tool)
    return where


def script(path: Path, text: str) -> Path:
    """Write an executable sh script."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def run(shell: str, name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """action/<name> under ``shell`` (resolved on this machine's PATH, not the test's)."""
    exe = subprocess.run(["sh", "-c", f"command -v {shell}"], capture_output=True, text=True, check=True)
    return subprocess.run(
        [exe.stdout.strip(), str(ACTION / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def digest() -> str:
    files = [
        ROOT / "pyproject.toml",
        *([ROOT / "constraints.txt"] if (ROOT / "constraints.txt").exists() else []),
    ]
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()[:20]


# --- guard.sh -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("os_name", ["Windows", ""])
def test_the_guard_refuses_windows_in_one_line(shell: str, os_name: str, tmp_path: Path) -> None:
    env = {"PATH": str(tools(tmp_path / "bin")), "RUNNER_OS": os_name}
    done = run(shell, "guard.sh", env)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    assert lines[0].startswith("::error ")
    assert "ubuntu-latest, ubuntu-24.04-arm, macos-latest" in lines[0]
    assert f"not on {os_name or 'an unknown OS'}" in lines[0]
    assert done.stderr == ""


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("os_name", ["Linux", "macOS"])
def test_the_guard_lets_linux_and_macos_through(shell: str, os_name: str, tmp_path: Path) -> None:
    done = run(shell, "guard.sh", {"PATH": str(tools(tmp_path / "bin")), "RUNNER_OS": os_name})
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


# --- key.sh ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(
    ("without", "python"),
    [((), False), (("sha256sum",), False), (("sha256sum", "shasum"), True)],
    ids=["sha256sum", "shasum-like-macos", "python-only"],
)
def test_the_cache_key_needs_no_gnu_tool(
    shell: str, without: tuple[str, ...], python: bool, tmp_path: Path
) -> None:
    env = {
        "PATH": str(tools(tmp_path / "bin", without=without)),
        "RUNNER_TEMP": "/rt",
        "CML_PYTHON_VERSION": "3.12.1",
        "CML_EXTRAS": "bench,x y",
        **({"CML_PYTHON": sys.executable} if python else {}),
    }
    done = run(shell, "key.sh", env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"key={digest()}\nvenv=/rt/cml-venv-py3.12.1-bench_x_y\n"


@pytest.mark.parametrize("shell", SHELLS)
def test_the_cache_key_names_what_it_lacks(shell: str, tmp_path: Path) -> None:
    env = {"PATH": str(tools(tmp_path / "bin", without=("sha256sum", "shasum"))), "RUNNER_TEMP": "/rt"}
    done = run(shell, "key.sh", env)
    assert done.returncode == 3
    assert "no sha256sum, shasum or Python (CML_PYTHON) on this runner" in done.stderr
    assert "key=" not in done.stdout


# --- install.sh -----------------------------------------------------------------------------------------

#: A stand-in for the Python setup-python gives: `-m venv DIR` makes DIR/bin/python, a stand-in that logs
#: `-m pip ...` (no network here) and hands everything else (action/venv.py) to this test's interpreter.
BASE_PYTHON = """\
log=$(dirname "$0")/calls.log
echo "base $*" >>"$log"
[ "$1 $2" = "-m venv" ] || exit 9
mkdir -p "$3/bin" "$3/lib/python3.99/site-packages"
cat >"$3/bin/python" <<VENV_EOF
#!/bin/sh
if [ "\\$1 \\$2" = "-m pip" ]; then
  echo "venv \\$*" >>"$log"
  [ -z "\\${PIP_NO_INDEX:-}" ] || { echo "pip: no index (PIP_NO_INDEX)" >&2; exit 1; }
  exit 0
fi
exec "{python}" "\\$@"
VENV_EOF
chmod +x "$3/bin/python"
"""


def install_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    base = script(tmp_path / "py" / "python3", BASE_PYTHON.replace("{python}", sys.executable))
    return {
        "PATH": str(tools(tmp_path / "bin", without=("sha256sum",))),
        "CML_PYTHON": str(base),
        "CML_VENV": str(tmp_path / "venv"),
        "CML_KEY": "k1",
        "CML_EXTRAS": "",
        **extra,
    }


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "py" / "calls.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


@pytest.mark.parametrize("shell", SHELLS)
def test_a_cache_miss_installs_the_dependencies_and_links_cml(shell: str, tmp_path: Path) -> None:
    done = run(shell, "install.sh", install_env(tmp_path, CML_EXTRAS="bench"))
    assert done.returncode == 0, done.stderr
    venv = tmp_path / "venv"
    assert calls(tmp_path)[0] == f"base -m venv {venv}"
    pip = calls(tmp_path)[1:]
    assert len(pip) == 1
    assert pip[0].startswith("venv -m pip install -q --disable-pip-version-check -r ")
    assert ("-c " in pip[0]) is (ROOT / "constraints.txt").exists()
    requirements = (venv / "cml-requirements.txt").read_text(encoding="utf-8").splitlines()
    assert "PyGithub>=2.4" in requirements
    assert any(r.startswith("ai-edge-litert>=") for r in requirements)  # the bench extra
    assert not any(line.startswith("cml") for line in requirements)  # cml itself runs from the checkout
    pth = venv / "lib" / "python3.99" / "site-packages" / "cml-action.pth"
    assert pth.read_text(encoding="utf-8") == f"{ROOT}\n"
    assert (venv / "cml-venv-key").read_text(encoding="utf-8") == "k1\n"
    held = (venv / "cml-venv-freeze.txt").read_text(encoding="utf-8").splitlines()
    assert f"pyyaml=={yaml.__version__}" in held


@pytest.mark.parametrize("shell", SHELLS)
def test_a_cache_hit_installs_with_no_index_at_all(shell: str, tmp_path: Path) -> None:
    assert run(shell, "install.sh", install_env(tmp_path)).returncode == 0
    pth = next((tmp_path / "venv").glob("lib/python*/site-packages/cml-action.pth"))
    pth.write_text("/where/an/older/action/was\n", encoding="utf-8")  # the cache saved another checkout
    before = calls(tmp_path)
    offline = {"PIP_NO_INDEX": "1", "PIP_INDEX_URL": "http://127.0.0.1:9/"}
    done = run(shell, "install.sh", install_env(tmp_path, **offline))
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path) == before  # neither a new venv nor pip
    assert "using the cached venv" in done.stdout
    assert pth.read_text(encoding="utf-8") == f"{ROOT}\n"


@pytest.mark.parametrize("spoil", ["key", "missing-distribution", "no-record", "no-python"])
def test_an_incomplete_or_foreign_venv_is_rebuilt(spoil: str, tmp_path: Path) -> None:
    assert run("dash", "install.sh", install_env(tmp_path)).returncode == 0
    venv = tmp_path / "venv"
    env = install_env(tmp_path)
    if spoil == "key":
        env["CML_KEY"] = "k2"  # pyproject.toml changed since the cache was saved
    elif spoil == "missing-distribution":
        with (venv / "cml-venv-freeze.txt").open("a", encoding="utf-8") as held:
            held.write("no-such-distribution==1.0\n")
    elif spoil == "no-record":
        (venv / "cml-venv-freeze.txt").unlink()
    else:
        (venv / "bin" / "python").unlink()
    (venv / "stale").write_text("left by the old venv", encoding="utf-8")
    done = run("dash", "install.sh", env)
    assert done.returncode == 0, done.stderr
    assert [c.split()[0] for c in calls(tmp_path)] == ["base", "venv", "base", "venv"]
    assert not (venv / "stale").exists()
    assert (venv / "cml-venv-key").read_text(encoding="utf-8") == env["CML_KEY"] + "\n"


def test_an_unknown_extra_is_named(tmp_path: Path) -> None:
    done = run("dash", "install.sh", install_env(tmp_path, CML_EXTRAS="bench,gpu"))
    assert done.returncode == 2
    assert "input 'extras': extra 'gpu' is not one of bench, dev" in done.stderr
    assert [c.split()[0] for c in calls(tmp_path)] == ["base"]  # no pip


# --- browser.sh -----------------------------------------------------------------------------------------

APT_GET = """\
echo "apt-get $*" >>"{log}"
for arg in "$@"; do
  case "$arg" in
    *google-chrome-stable_current_*.deb) name=google-chrome-stable ;;
    chromium-headless-shell) name=chromium-headless-shell ;;
    *) continue ;;
  esac
  [ -z "{fail}" ] || exit 100
  printf '#!/bin/sh\\n' >"{bin}/$name"; chmod +x "{bin}/$name"
done
"""
CURL = """\
echo "curl $*" >>"{log}"
while [ $# -gt 1 ]; do [ "$1" = -o ] && : >"$2"; shift; done
"""
OS_RELEASE = {
    "ubuntu": 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n',
    "debian": 'NAME="Debian GNU/Linux"\nID=debian\n',
    "fedora": "ID=fedora\n",
}


def browser_env(
    tmp_path: Path, *, os_id: str = "ubuntu", fail: bool = False, root: bool = True
) -> dict[str, str]:
    """A Linux ARM runner with no Chromium: apt-get, curl, sudo (and id) stand-ins that log to ``calls``."""
    bin_ = tools(tmp_path / "bin", without=("apt-get", "curl", "sudo", "id"))
    log = tmp_path / "calls"
    fill = {"log": str(log), "bin": str(bin_), "fail": "y" if fail else ""}
    script(bin_ / "apt-get", APT_GET.format(**fill))
    script(bin_ / "curl", CURL.format(**fill))
    script(bin_ / "sudo", f'echo "sudo $*" >>"{log}"\n[ "$1" = -n ] && shift\nexec "$@"\n')
    script(bin_ / "id", "echo 0\n" if root else "echo 1001\n")
    (tmp_path / "os-release").write_text(OS_RELEASE[os_id], encoding="utf-8")
    return {
        "PATH": str(bin_),
        "HOME": str(tmp_path / "home"),
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "ARM64",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "CML_OS_RELEASE": str(tmp_path / "os-release"),
    }


def browser(shell: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run browser.sh; return the result and the `path` output it wrote (``<unset>`` when none)."""
    Path(env["GITHUB_OUTPUT"]).write_text("", encoding="utf-8")
    done = run(shell, "browser.sh", env)
    return done, parse(Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8")).get("path", "<unset>")


def logged(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


@pytest.mark.parametrize("shell", SHELLS)
def test_a_chromium_on_path_is_used_and_named(shell: str, tmp_path: Path) -> None:
    env = browser_env(tmp_path)
    chrome = script(Path(env["PATH"]) / "google-chrome", "")
    done, path = browser(shell, env)
    assert done.returncode == 0, done.stderr
    assert path == str(chrome)
    assert done.stdout == f"::notice title=cml: Chromium::plots are drawn with {chrome} (found on PATH)\n"
    assert logged(tmp_path) == []  # nothing installed


@pytest.mark.parametrize("shell", SHELLS)
def test_macos_chrome_is_found_inside_its_app_bundle(shell: str, tmp_path: Path) -> None:
    env = browser_env(tmp_path) | {"RUNNER_OS": "macOS", "CML_APP_DIRS": f"{tmp_path}/none:{tmp_path}/Apps"}
    not_executable = tmp_path / "Apps" / "Chromium.app" / "Contents" / "MacOS" / "Chromium"
    not_executable.parent.mkdir(parents=True)
    not_executable.write_text("", encoding="utf-8")
    chrome = script(tmp_path / "Apps" / "Google Chrome.app" / "Contents" / "MacOS" / "Google Chrome", "")
    done, path = browser(shell, env)
    assert done.returncode == 0, done.stderr
    assert path == str(chrome)
    assert f"plots are drawn with {chrome} (the app bundle's)" in done.stdout
    assert logged(tmp_path) == []


def test_app_bundles_are_looked_for_on_macos_only(tmp_path: Path) -> None:
    env = browser_env(tmp_path) | {"CML_APP_DIRS": str(tmp_path / "Apps"), "CML_CHROMIUM": "find"}
    script(tmp_path / "Apps" / "Google Chrome.app" / "Contents" / "MacOS" / "Google Chrome", "")
    done, path = browser("dash", env)
    assert path == ""
    assert "::warning title=cml: no Chromium::" in done.stdout


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(("arch", "deb"), [("ARM64", "arm64"), ("X64", "amd64")])
def test_ubuntu_without_chrome_gets_googles_deb_for_its_arch(
    shell: str, arch: str, deb: str, tmp_path: Path
) -> None:
    env = browser_env(tmp_path, root=False) | {"RUNNER_ARCH": arch}
    done, path = browser(shell, env)
    assert done.returncode == 0, done.stderr
    assert path == str(Path(env["PATH"]) / "google-chrome-stable")
    url = f"https://dl.google.com/linux/direct/google-chrome-stable_current_{deb}.deb"
    assert f"(installed Google Chrome ({url}))" in done.stdout
    file = tmp_path / f"google-chrome-stable_current_{deb}.deb"
    assert logged(tmp_path) == [
        f"curl -fsSL --retry 3 -o {file} {url}",
        f"sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends {file}",
        f"apt-get install -y -qq --no-install-recommends {file}",
    ]
    assert not file.exists()


def test_debian_gets_its_chromium_headless_shell(tmp_path: Path) -> None:
    done, path = browser("dash", browser_env(tmp_path, os_id="debian"))
    assert done.returncode == 0, done.stderr
    assert path == str(tmp_path / "bin" / "chromium-headless-shell")
    assert "(installed Debian's chromium-headless-shell)" in done.stdout
    assert logged(tmp_path) == [
        "apt-get install -y -qq --no-install-recommends chromium-headless-shell fonts-liberation"
    ]


@pytest.mark.parametrize(
    ("case", "tried"),
    [
        ("find", []),
        ("fedora", []),
        ("macOS", []),
        ("apt-fails", ["curl", "apt-get install", "apt-get update", "apt-get install"]),
    ],
)
def test_no_chromium_is_a_warning_and_an_empty_path(case: str, tried: list[str], tmp_path: Path) -> None:
    env = browser_env(tmp_path, os_id="fedora" if case == "fedora" else "ubuntu", fail=case == "apt-fails")
    if case == "find":
        env["CML_CHROMIUM"] = "find"
    if case == "macOS":
        env |= {"RUNNER_OS": "macOS", "CML_APP_DIRS": str(tmp_path / "none")}
    done, path = browser("dash", env)
    assert done.returncode == 0
    assert path == ""
    warning = done.stdout.splitlines()[-1]
    assert warning.startswith("::warning title=cml: no Chromium::no Chromium or Chrome on this runner")
    assert "leave out plots" in warning
    assert [
        " ".join(c.split()[:2]) if c.startswith("apt") else c.split()[0] for c in logged(tmp_path)
    ] == tried


def test_browser_path_wins_and_a_bad_one_is_warned_about(tmp_path: Path) -> None:
    env = browser_env(tmp_path)
    mine = script(tmp_path / "my-chrome", "")
    done, path = browser("dash", env | {"BROWSER_PATH": str(mine)})
    assert path == str(mine)
    assert done.stdout == f"::notice title=cml: Chromium::plots are drawn with {mine} (BROWSER_PATH)\n"
    chromium = script(Path(env["PATH"]) / "chromium", "")
    done, path = browser("dash", env | {"BROWSER_PATH": str(tmp_path / "missing")})
    assert path == str(chromium)
    assert f"BROWSER_PATH={tmp_path / 'missing'} is not an executable file" in done.stdout


def test_skip_and_bad_modes(tmp_path: Path) -> None:
    env = browser_env(tmp_path)
    done, path = browser("dash", env | {"CML_CHROMIUM": "skip"})
    assert (done.returncode, path, done.stdout, logged(tmp_path)) == (0, "", "", [])
    done, path = browser("dash", env | {"CML_CHROMIUM": "yes"})
    assert done.returncode == 2
    assert "input 'chromium' must be auto, find or skip, got: yes" in done.stderr
    assert path == "<unset>"


def test_the_scripts_are_posix_sh() -> None:
    """No bashism for dash to trip on: shellcheck as POSIX sh, and every script says #!/bin/sh."""
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck is not installed (./dev test installs it)")
    scripts = sorted(ACTION.glob("*.sh"))
    assert [p.name for p in scripts] == ["browser.sh", "guard.sh", "install.sh", "key.sh"]
    for path in scripts:
        assert path.read_text(encoding="utf-8").startswith("#!/bin/sh\n"), path.name
        assert os.access(path, os.X_OK), path.name
    done = subprocess.run(
        ["shellcheck", "--shell=sh", *map(str, scripts)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout
