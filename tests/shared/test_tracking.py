"""Experiment tracking: TensorBoard logs per cv trial, MLflow runs (one per command, one nested
run per trial, the refit as a child) in a local sqlite store."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from regapps.shared import tracking

from ..helpers import assert_one_error, main_json


def test_mlflow_missing_is_exit_2(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracking, "find_spec", lambda name: None)
    result = cli("image", "train", "--dataset", "digits", "--mlflow-uri", f"sqlite:///{tmp_path}/m.db",
                 "--runs-dir", str(tmp_path / "runs"))
    assert_one_error(result, "pip install 'regapps[mlflow]'")
    assert not (tmp_path / "runs").exists()


def test_flatten_and_numeric() -> None:
    flat = tracking.flatten({"a": {"b": 1, "c": {"d": "x"}}, "e": True, "f": float("nan")})
    assert flat == {"a.b": 1, "a.c.d": "x", "e": True, "f": flat["f"]}
    assert tracking.numeric(flat) == {"a.b": 1.0}


@pytest.mark.slow
def test_cv_trials_in_tensorboard_and_mlflow(tmp_path: Path) -> None:
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    result = main_json("image", "cv", "--dataset", "digits", "--grid", "dropout=0,0.5", "--folds", "2",
                       "--epochs", "2", "--tensorboard", "--mlflow-uri", uri,
                       "--runs-dir", str(tmp_path / "runs"), "--json")
    run_dir = Path(result["run_dir"])
    trials = sorted(p.name for p in (run_dir / "tensorboard").iterdir())
    assert trials == ["c0-f0-s42", "c0-f1-s42", "c1-f0-s42", "c1-f1-s42"]
    assert all(any((run_dir / "tensorboard" / t / "train").iterdir()) for t in trials)
    assert (Path(result["refit_run_dir"]) / "tensorboard" / "validation").is_dir()

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("regapps-image")
    runs = client.search_runs([experiment.experiment_id])
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    assert parent.info.status == "FINISHED" and parent.info.run_name == run_dir.name
    assert parent.data.metrics["best.score"] == pytest.approx(result["best"]["score"])
    assert parent.data.params["plan.folds"] == "2"
    assert {"report.md", "report.html", "cv_results.csv"} <= {a.path for a in client.list_artifacts(parent.info.run_id)}
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    trial_runs = [r for r in children if r.data.tags["regapps.kind"] == "trial"]
    assert len(trial_runs) == 4
    for run in trial_runs:
        assert [m.step for m in client.get_metric_history(run.info.run_id, "val_loss")] == [1, 2]
        assert 0 <= run.data.metrics["cv_accuracy"] <= 1
    assert {r.data.params["param:regularization.dropout"] for r in trial_runs} == {"0", "0.5"}
    refit = next(r for r in children if r.data.tags["regapps.kind"] == "refit")
    assert refit.data.metrics["test.accuracy"] == pytest.approx(result["test"]["accuracy"])
    assert "model.keras" in {a.path for a in client.list_artifacts(refit.info.run_id)}


GUARD = ("import socket\n"
         "real = socket.socket.connect\n"
         "def connect(self, address):\n"
         "    host = address[0] if isinstance(address, tuple) else ''\n"
         "    if isinstance(host, str) and host and not host.startswith('127.'):\n"
         "        raise OSError(101, 'blocked')\n"
         "    return real(self, address)\n"
         "socket.socket.connect = connect\n")


def test_mlflow_telemetry_is_switched_off(tmp_path: Path) -> None:
    """MLflow 3 sends usage telemetry by default; a regapps command that logs to MLflow opts out
    (MLFLOW_DISABLE_TELEMETRY=true) before MLflow is imported. In a fresh process whose
    environment looks like no CI or test run (MLflow stays quiet in those by itself)."""
    import json
    import os
    import subprocess
    import sys

    code = GUARD + (
        "import json, os\n"
        "from regapps.shared.tracking import Tracker\n"
        f"Tracker('sqlite:///{tmp_path}/m.db', 'image', 'train').end('FINISHED')\n"
        "from mlflow.telemetry.utils import is_telemetry_disabled\n"
        "print(json.dumps({'disabled': is_telemetry_disabled(),"
        " 'env': os.environ.get('MLFLOW_DISABLE_TELEMETRY')}))\n")
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"disabled": True, "env": "true"}


@pytest.mark.parametrize("name, value", [("MLFLOW_DISABLE_TELEMETRY", "false"), ("DO_NOT_TRACK", "false")])
def test_mlflow_telemetry_choice_of_the_user_is_kept(monkeypatch: pytest.MonkeyPatch, name: str,
                                                     value: str) -> None:
    monkeypatch.delenv("MLFLOW_DISABLE_TELEMETRY", raising=False)
    monkeypatch.delenv("DO_NOT_TRACK", raising=False)
    monkeypatch.setenv(name, value)
    tracking.opt_out_of_telemetry()
    import os

    assert os.environ.get("MLFLOW_DISABLE_TELEMETRY") == (value if name == "MLFLOW_DISABLE_TELEMETRY" else None)
    monkeypatch.delenv(name)
    tracking.opt_out_of_telemetry()
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"
