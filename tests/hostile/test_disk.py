"""A run directory on a disk that fills up mid-run (a 64 KiB tmpfs): one line, exit code 2, the
run marked failed and no temporary file left behind. Needs root (mount); skipped elsewhere."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .world import mounted


@pytest.mark.slow
def test_disk_full_mid_run(cli: Any, tmp_path: Path) -> None:
    with mounted(tmp_path / "full", "full") as full:
        result = cli("image", "train", "--dataset", "digits", "--epochs", "1", "--runs-dir", str(full))
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("regapps: error: ")]
        assert result.code == 2 and result.stdout == "" and "Traceback" not in result.stderr
        assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0])  # after the progress lines
        for fragment in ("cannot write the run directory", "No space left on device", "marked failed"):
            assert fragment in errors[0]
        (run,) = (full / "image").iterdir()
        assert json.loads((run / "status.json").read_text())["status"] == "failed"
        assert not [p for p in run.rglob("*") if ".tmp" in p.name]
