"""Helpers shared by the CLI tests."""
from __future__ import annotations

import contextlib
import io
import json
import os
from typing import Any

import pytest

# cv workers get as many TensorFlow threads as this process has, so oneDNN sums in the same order
# and their scores can be compared with a sequential run's exactly
WORKER_THREADS = str(os.cpu_count() or 1)


def main_json(*args: str) -> dict[str, Any]:
    """Run ``regapps ARGS --json`` in-process; assert success; stdout must be one JSON object."""
    from regapps.apps.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        with pytest.raises(SystemExit) as info:
            main(list(args))
    assert info.value.code == 0, err.getvalue()[-2000:]
    return json.loads(out.getvalue())


def assert_one_error(result: Any, *fragments: str) -> None:
    """Exit code 2, stderr exactly one ``regapps: error:`` line holding every fragment, nothing
    on stdout, no traceback."""
    assert result.code == 2, (result.code, result.stdout, result.stderr)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("regapps: error: "), result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def modules_imported_by(argvs: list[list[str]], modules: tuple[str, ...] = ("tensorflow", "keras")) -> dict[str, bool]:
    """Run ``regapps ARGV`` for each argv in one fresh interpreter; which ``modules`` got imported."""
    import subprocess
    import sys

    code = ("import json, sys\nfrom regapps.apps.cli import main\n"
            f"for argv in {argvs!r}:\n"
            "    try: main(argv)\n"
            "    except SystemExit: pass\n"
            f"print(json.dumps({{m: m in sys.modules for m in {list(modules)!r}}}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout.strip().splitlines()[-1])


def tar_gz_bytes(members: dict[str, bytes]) -> bytes:
    """A gzipped tar archive holding ``members`` (name -> bytes), built in memory."""
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
