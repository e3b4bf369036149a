"""Determinism and interruption of `image cv` (and determinism of `image train`): the same seed
on the same machine gives identical metrics and an identical cv_results.csv; Ctrl-C during cv
keeps the finished trials and `cv --resume RUN_DIR` (alone: the run's saved search and
settings) completes with the results of an uninterrupted run."""
from __future__ import annotations

import csv
import json
import signal
from pathlib import Path
from typing import Any

import pytest

from ..helpers import main_json
from ..procs import first, start, wait_for

CV = ["image", "cv", "--dataset", "digits", "--grid", "l2=0,1e-3", "--folds", "2", "--epochs", "1",
      "--seed", "3", "--json"]


def _rows(path: Path, drop: tuple[str, ...] = ("seconds",)) -> list[dict[str, str]]:
    """A CSV's rows without its wall-time column."""
    with open(path, newline="") as handle:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def two_cv_runs(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return [main_json(*CV, "--runs-dir", str(tmp_path_factory.mktemp(f"cv{i}"))) for i in range(2)]


@pytest.mark.slow
def test_cv_results_are_identical_for_the_same_seed(two_cv_runs: list[dict[str, Any]]) -> None:
    a, b = (Path(r["run_dir"]) for r in two_cv_runs)
    rows = _rows(a / "cv_results.csv")
    assert len(rows) == 2 * 2 and len({r["score"] for r in rows}) > 1
    assert rows == _rows(b / "cv_results.csv")  # every score column, exactly
    assert _rows(a / "summary.csv") == _rows(b / "summary.csv")
    assert two_cv_runs[0]["best"] == two_cv_runs[1]["best"]
    assert two_cv_runs[0]["test"] == two_cv_runs[1]["test"]


def test_train_metrics_are_identical_for_the_same_seed(tmp_path: Path) -> None:
    args = ["image", "train", "--dataset", "digits", "--epochs", "2", "--seed", "11", "--json"]
    a, b = (main_json(*args, "--runs-dir", str(tmp_path / name)) for name in ("a", "b"))
    for split in ("validation", "test"):
        assert a["metrics"][split] == b["metrics"][split]
    drop = ("seconds",)
    assert _rows(Path(a["run_dir"]) / "history.csv", drop) == _rows(Path(b["run_dir"]) / "history.csv", drop)
    assert a["metrics"]["test"]["accuracy"] > 0.5  # it learned something: not trivially equal


@pytest.mark.slow
def test_interrupted_cv_resumes_to_the_uninterrupted_result(two_cv_runs: list[dict[str, Any]], cli: Any,
                                                           tmp_path: Path) -> None:
    proc = start(*CV, "--runs-dir", str(tmp_path))

    def one_trial_done() -> Path | None:
        results = first("image/*/cv_results.csv", tmp_path)
        return results if results is not None and len(_rows(results)) >= 1 else None

    results = wait_for(one_trial_done, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err.strip().splitlines()[-1] == "regapps: error: interrupted"
    run = results.parent
    assert json.loads((run / "status.json").read_text())["status"] == "interrupted"
    kept = _rows(results, drop=())  # with the wall times: a redone trial would change them
    assert 1 <= len(kept) < 4 and not (run / "summary.csv").exists()

    resumed = cli("image", "cv", "--resume", str(run), "--json")  # alone: the run's own search
    assert resumed.code == 0, resumed.stderr
    assert json.loads(resumed.stdout)["run_dir"] == str(run)
    assert json.loads((run / "status.json").read_text())["status"] == "completed"
    reference = _rows(Path(two_cv_runs[0]["run_dir"]) / "cv_results.csv")
    assert _rows(results, drop=())[: len(kept)] == kept  # finished trials were kept, not redone
    assert _rows(results) == reference  # and the rest match an uninterrupted run exactly
    assert json.loads(resumed.stdout)["best"] == two_cv_runs[0]["best"]
