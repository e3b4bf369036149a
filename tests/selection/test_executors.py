"""cv trials in other processes: a real dask.distributed LocalCluster (worker processes on
loopback) and a local process pool give the sequential (warm-started) search's results; a worker
killed mid-search loses no finished trial and the search completes; bad executor flags exit 2."""
from __future__ import annotations

import csv
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from regapps.shared.selection import executors

from ..helpers import WORKER_THREADS, assert_one_error, main_json

SEARCH = ["image", "cv", "--dataset", "digits", "--grid", "learning_rate=3e-4,1e-3,3e-3",
          "--search", "halving", "--eta", "2", "--folds", "2", "--epochs", "3", "--seed", "7", "--json"]
TOLERANCE = 1e-9  # scores are fractions of 719 or so validation images: equal, not just close
# Workers get as many TensorFlow threads as this process has (helpers.WORKER_THREADS; the
# cluster fixture is conftest.py's), so scores compare exactly (with fewer threads, the default,
# see test_local_processes_with_default_threads).
THREADS = WORKER_THREADS


@pytest.fixture(scope="module")
def sequential(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return main_json(*SEARCH, "--runs-dir", str(tmp_path_factory.mktemp("seq")))


def _rows(run_dir: str | Path) -> dict[tuple[str, ...], dict[str, str]]:
    with open(Path(run_dir) / "cv_results.csv", newline="") as handle:
        return {(r["candidate"], r["rung"], r["fold"], r["seed"]): r for r in csv.DictReader(handle)}


def _assert_same_search(result: dict[str, Any], reference: dict[str, Any]) -> None:
    rows, ref = _rows(result["run_dir"]), _rows(reference["run_dir"])
    assert rows.keys() == ref.keys() and len(rows) == 3 * 2 + 2 * 2  # rungs of 3 and 2 candidates
    for key, row in rows.items():
        assert abs(float(row["score"]) - float(ref[key]["score"])) <= TOLERANCE, key
        assert row["epochs"] == ref[key]["epochs"] and row["best_epoch"] == ref[key]["best_epoch"]
    assert result["best"] == reference["best"]
    assert result["test"]["accuracy"] == reference["test"]["accuracy"]


@pytest.mark.slow
def test_dask_cluster_matches_sequential(cluster: Any, sequential: dict[str, Any], tmp_path: Path) -> None:
    result = main_json(*SEARCH, "--executor", "dask", "--scheduler", cluster.scheduler_address,
                       "--runs-dir", str(tmp_path))
    # survivors were retrained from scratch to rung 1's epochs on the workers, and kept
    # training in memory in the sequential run: the same scores either way
    _assert_same_search(result, sequential)


@pytest.mark.slow
def test_local_processes_match_sequential(sequential: dict[str, Any], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", THREADS)
    result = main_json(*SEARCH, "--executor", "local", "--jobs", "2", "--runs-dir", str(tmp_path))
    _assert_same_search(result, sequential)


@pytest.mark.slow
def test_local_processes_with_default_threads(sequential: dict[str, Any], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """As shipped: each worker has cpu_count // jobs TensorFlow threads (here 2 // 2 = 1, against
    the sequential run's 2), so oneDNN splits its sums differently and losses differ in their last
    digits: a validation image near a decision boundary may flip. The search is the same (trials,
    epochs, winner); each score within 1% (measured on this CPU: every score equal)."""
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    result = main_json(*SEARCH, "--executor", "local", "--jobs", "2", "--runs-dir", str(tmp_path))
    rows, ref = _rows(result["run_dir"]), _rows(sequential["run_dir"])
    assert rows.keys() == ref.keys() and len(rows) == 3 * 2 + 2 * 2
    for key, row in rows.items():
        assert abs(float(row["score"]) - float(ref[key]["score"])) <= 0.01, key
        assert row["epochs"] == ref[key]["epochs"]
    assert result["best"]["params"] == sequential["best"]["params"]
    assert result["test"]["accuracy"] == sequential["test"]["accuracy"]  # the refit runs here, as in sequential


@pytest.mark.slow
def test_killed_worker_loses_no_finished_trial(cluster: Any, sequential: dict[str, Any], tmp_path: Path) -> None:
    from regapps.apps.image import task
    from regapps.apps.image.config import ImageConfig

    config = ImageConfig.model_validate({"data": {"dataset": "digits"}, "training": {"epochs": 3, "seed": 7}})
    executor = executors.DaskExecutor(cluster.scheduler_address)
    pids = executor.client.run(os.getpid)
    seen: list[dict[str, Any]] = []

    def kill_after_first(done: int, total: int, row: Any) -> None:
        seen.append(dict(row))
        if len(seen) == 1:  # one trial recorded, others still running on both workers
            os.kill(next(iter(pids.values())), signal.SIGKILL)

    try:
        result = task.cv(config, ["learning_rate=3e-4,1e-3,3e-3"], search="halving", folds=2, eta=2,
                         executor=executor, runs_dir=tmp_path, progress=kill_after_first).to_dict()
        assert executor.client.run(os.getpid).keys() != pids.keys()  # the nanny started a new worker
    finally:
        executor.close()
    rows = _rows(result["run_dir"])
    first = seen[0]
    assert rows[tuple(str(first[k]) for k in ("candidate", "rung", "fold", "seed"))]["score"] == str(first["score"])
    assert len(seen) == len(rows) == 10  # every trial recorded once: the killed one was rerun
    _assert_same_search(result, sequential)


@pytest.mark.parametrize("args, fragment", [
    (["--executor", "threads"], "--executor 'threads' is not one of sequential, local, dask"),
    (["--executor", "local", "--jobs", "0"], "--jobs must be at least 1"),
    (["--jobs", "2"], "--jobs goes with --executor local or dask"),
    (["--scheduler", "tcp://127.0.0.1:8786"], "--scheduler goes with --executor dask"),
    (["--executor", "dask", "--scheduler", "127.0.0.1:8786"], "expects an address like tcp://"),
])
def test_executor_bad_input(cli: Any, tmp_path: Path, args: list[str], fragment: str) -> None:
    result = cli("image", "cv", "--dataset", "digits", "--grid", "l2=0,1e-3", *args, "--runs-dir", str(tmp_path))
    assert_one_error(result, fragment)
    assert not any(tmp_path.iterdir())


def test_unreachable_scheduler_exits_2(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", "2s")
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli("image", "cv", "--dataset", "digits", "--grid", "l2=0,1e-3", "--executor", "dask",
                 "--scheduler", f"tcp://127.0.0.1:{port}", "--runs-dir", str(tmp_path))
    assert_one_error(result, f"cannot reach the dask scheduler at tcp://127.0.0.1:{port}")
