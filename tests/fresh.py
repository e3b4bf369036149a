"""Running ``regapps`` commands in a fresh Python process, one process for many commands (each
one imports TensorFlow otherwise: ~12 s apiece on the test machines)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Each command goes through main(), the console script's entry point, with its own stdout and
# stderr (the CLI re-points logging at sys.stderr on every command); one JSON line per command.
_RUNNER = """
import contextlib, io, json, sys
from regapps.apps.cli import main
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException as exc:  # a traceback a user would see
            import traceback
            traceback.print_exc()
            code = 1
    print("RESULT " + json.dumps({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}), flush=True)
"""


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        assert self.code == 0, self.stderr[-3000:]
        return json.loads(self.stdout)


def run_fresh(argvs: list[list[str]], *, cache: Path, cwd: Path, timeout: float = 300) -> list[Result]:
    """``regapps ARGV`` for each argv, in order, in one new interpreter."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "REGAPPS_DATA": str(cache), "REGAPPS_NET_TIMEOUT": "3"}
    proc = subprocess.run([sys.executable, "-c", _RUNNER, json.dumps(argvs)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=timeout)
    results = [Result(**json.loads(line[len("RESULT "):])) for line in proc.stdout.splitlines()
               if line.startswith("RESULT ")]
    assert proc.returncode == 0 and len(results) == len(argvs), proc.stderr[-3000:]
    return results
