"""Run directories: atomic writes, status life-cycle, refusal of unfinished or foreign runs."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from regapps.shared.errors import RunDirError
from regapps.shared.runs import Run, atomic_write_text


def test_life_cycle(tmp_path: Path) -> None:
    run = Run.create(tmp_path, "image", "train", "my run/../x")
    assert run.path.parent == tmp_path / "image"
    assert ".." not in run.path.name and "/" not in run.path.name
    assert run.status()["status"] == "running"
    with pytest.raises(RunDirError, match="not a finished run"):
        Run.open(run.path, app="image")
    run.write_json("metrics.json", {"a": 1})
    run.complete()
    assert Run.open(run.path, app="image").read_json("metrics.json") == {"a": 1}
    with pytest.raises(RunDirError, match="run of the 'image' app, not 'text'"):
        Run.open(run.path, app="text")


def test_two_runs_in_one_second_get_distinct_dirs(tmp_path: Path) -> None:
    a = Run.create(tmp_path, "ts", "backtest", "same")
    b = Run.create(tmp_path, "ts", "backtest", "same")
    assert a.path != b.path


def test_failure_and_interrupt_are_marked(tmp_path: Path) -> None:
    run = Run.create(tmp_path, "image", "train", "boom")
    with pytest.raises(ValueError), run.guard():
        raise ValueError("bad")
    assert run.status()["status"] == "failed" and "bad" in run.status()["error"]
    run2 = Run.create(tmp_path, "image", "train", "stop")
    with pytest.raises(KeyboardInterrupt), run2.guard():
        raise KeyboardInterrupt
    assert run2.status()["status"] == "interrupted"


def test_not_a_run_dir(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="not found"):
        Run.open(tmp_path / "missing")
    with pytest.raises(RunDirError, match="not a regapps run directory"):
        Run.open(tmp_path)
    (tmp_path / "status.json").write_text("{broken")
    with pytest.raises(RunDirError, match="unreadable"):
        Run.open(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_unwritable_root(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(RunDirError, match="cannot"):
            Run.create(tmp_path / "sub", "image", "train", "x")
    finally:
        tmp_path.chmod(0o700)


def test_root_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RunDirError, match="cannot create run directory"):
        Run.create(blocker, "image", "train", "x")


def test_atomic_write_leaves_old_content_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.json"
    atomic_write_text(target, json.dumps({"v": 1}))

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_text(target, json.dumps({"v": 2}))
    monkeypatch.undo()
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]  # no temp file left behind
