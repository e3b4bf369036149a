"""Reopening an interrupted ``train`` run for ``--resume``: every check happens before the run
directory is touched (right app and command, not finished, same data, a readable checkpoint)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from . import distribute
from .config import ExperimentConfig
from .errors import DataError, RunDirError, RunParameterError
from .runs import Run
from .training import check_checkpoint

C = TypeVar("C", bound=ExperimentConfig)


def reopen_train_run(run_dir: Path, *, app: str, config_cls: type[C],
                     load_data: Callable[[C], Any]) -> tuple[Run, C, Any]:
    """The run (marked running again), its saved configuration and its data, loaded again and
    checked against the checksum recorded when the run started."""
    run, config, meta = _unfinished_train_run(run_dir, app, config_cls)
    distribute.check(config.training)
    data = load_data(config)
    if data.checksum() != meta.get("data_sha256"):
        raise DataError(f"the data behind {run_dir} has changed since it started; start a new run")
    check_checkpoint(run.path)
    run.set_status("running", resumed=True)
    return run, config, data


def saved_config(run_dir: Path, *, app: str, config_cls: type[C]) -> C:
    """The configuration of an unfinished train run, read without loading anything else."""
    return _unfinished_train_run(run_dir, app, config_cls)[1]


def _unfinished_train_run(run_dir: Path, app: str, config_cls: type[C]) -> tuple[Run, C, dict[str, Any]]:
    run = Run.open(run_dir, app=app, require=None)
    if run.command != "train":
        raise RunParameterError("resume", "{run_dir} is a {command} run; {param} continues train runs",
                                run_dir=run_dir, command=run.command)
    if run.status().get("status") == "completed":
        raise RunDirError(f"{run_dir} is already finished; nothing to resume")
    saved = run.read_json("config.json")
    source = str(run.file("config.json"))
    config = config_cls.from_saved(saved, source=source)  # also refuses a config.json that is no mapping
    meta = saved.get("meta")
    if not isinstance(meta, dict):
        raise RunDirError(f"{source} does not fit this version of regapps: meta: expected a mapping "
                          "of versions and checksums")
    return run, config, meta
