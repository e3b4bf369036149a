""".ci/run in a sandbox: fake apt-get, python3, pip, ruff, mypy and pytest on a PATH of their own,
so nothing is installed, linted, type-checked or run. Under CI=true a chromium that cannot be
installed fails the run before anything else; outside CI it is a note, and the README's test
command runs either way. Its lint (ruff) and type check (mypy) come before the suite, and either
one failing fails the run without it."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("bash", "dirname", "mktemp", "tail", "rm", "mkdir", "chmod", "cat", "touch")


def _script(path: Path, body: str) -> None:
    path.write_text(f"#!{shutil.which('bash')}\n{body}")
    path.chmod(0o755)


def _sandbox(tmp_path: Path, apt_works: bool, failing: str | None = None) -> tuple[Path, Path, Path]:
    """``failing``: the one tool installed in the virtual environment (pip, python, ruff or mypy)
    that exits 1."""
    repo, bin_, log = tmp_path / "repo", tmp_path / "bin", tmp_path / "calls.log"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", repo / ".ci" / "run")
    bin_.mkdir()
    for tool in TOOLS:
        os.symlink(shutil.which(tool), bin_ / tool)
    if apt_works:  # "installs" chromium: a stub on the PATH
        apt = (f'echo "apt-get $*" >> {log}\nif [ "$1" = install ]; then\n'
               f'  printf "#!/bin/sh\\n" > {bin_}/chromium; chmod +x {bin_}/chromium\nfi\n')
    else:
        apt = f'echo "apt-get $*" >> {log}\necho "E: Unable to locate package chromium"\nexit 100\n'
    _script(bin_ / "apt-get", apt)
    _script(bin_ / "python3", f'''echo "python3 $*" >> {log}
if [ "$*" = "-m venv .venv" ]; then
  mkdir -p .venv/bin
  echo "PATH=$PWD/.venv/bin:\\$PATH" > .venv/bin/activate
  for tool in pip python ruff mypy; do
    printf '#!{shutil.which("bash")}\\necho "%s $*" >> {log}\\n' "$tool" > .venv/bin/$tool
    if [ "$tool" = "{failing or ''}" ]; then echo 'echo "$0 found problems" >&2; exit 1' >> .venv/bin/$tool; fi
    chmod +x .venv/bin/$tool
  done
fi
''')
    return repo, bin_, log


def _run(repo: Path, bin_: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(bin_), "HOME": str(repo), **({"CI": "true"} if ci else {})}
    return subprocess.run([shutil.which("bash") or "bash", str(repo / ".ci" / "run")], env=env,
                          capture_output=True, text=True, timeout=60)


README_COMMAND = ('python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" '
                  "&& ruff check apps shared && mypy && python -m pytest -n 2")
CALLS = ["python3 -m venv .venv", "pip install -e .[test]", "ruff check apps shared", "mypy", "python -m pytest -n 2"]


def test_ci_run_calls_the_readme_test_command() -> None:
    assert README_COMMAND in (ROOT / "README.md").read_text()
    assert (ROOT / ".ci" / "run").read_text().rstrip().splitlines()[-1] == README_COMMAND


def test_failed_chromium_install_fails_the_ci_run(tmp_path: Path) -> None:
    repo, bin_, log = _sandbox(tmp_path, apt_works=False)
    result = _run(repo, bin_, ci=True)
    assert result.returncode != 0
    assert "chromium could not be installed" in result.stderr
    assert "Unable to locate package chromium" in result.stderr  # apt-get's own reason
    assert not any(line.startswith("python") for line in log.read_text().splitlines())


@pytest.mark.parametrize("ci, apt_works", [(False, False), (True, True)])
def test_the_test_command_runs_when_chromium_is_there_or_not_required(tmp_path: Path, ci: bool,
                                                                      apt_works: bool) -> None:
    repo, bin_, log = _sandbox(tmp_path, apt_works=apt_works)
    result = _run(repo, bin_, ci=ci)
    assert result.returncode == 0, result.stderr
    calls = [c.rstrip() for c in log.read_text().splitlines()]  # "mypy " for mypy without arguments
    assert [c for c in calls if not c.startswith("apt-get")] == CALLS
    assert ("will be skipped" in result.stdout) is not apt_works


@pytest.mark.parametrize("tool", ["ruff", "mypy"])
def test_lint_or_type_errors_fail_the_run_before_the_suite(tmp_path: Path, tool: str) -> None:
    repo, bin_, log = _sandbox(tmp_path, apt_works=True, failing=tool)
    result = _run(repo, bin_, ci=True)
    assert result.returncode != 0
    assert f"{tool} found problems" in result.stderr
    calls = [c.rstrip() for c in log.read_text().splitlines() if not c.startswith("apt-get")]
    last = "ruff check apps shared" if tool == "ruff" else "mypy"
    assert calls == CALLS[:CALLS.index(last) + 1]  # nothing after the failing tool
