"""Optional MLflow tracking (``--mlflow-uri URI``, extra ``regapps[mlflow]``).

One MLflow run per command, named after its run directory: the resolved config as params, the
per-epoch history as metrics (step = epoch), the final metrics, and the report, plots, metrics
and model as artifacts. A cv run gets one nested run per trial (params, per-epoch history,
score) logged the moment the trial is recorded, and the refitted winner as a nested run too.

Everything goes through an explicit ``MlflowClient`` (no process-wide tracking URI or active
run), and it is logged from the run directory regapps writes anyway, so every app and command is
tracked the same way. MLflow is imported only when a URI is given.
"""
from __future__ import annotations

import contextlib
import csv
import json
import logging
import math
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .errors import ConfigError
from .report import flatten

log = logging.getLogger(__name__)

ARTIFACTS = ("report.md", "report.html", "config.json", "metrics.json", "search.json",
             "cv_results.csv", "summary.csv", "cv_summary.json", "best_config.yaml",
             "comparison.csv", "history.csv", "predictions.csv", "forecast.csv", "model.keras")
BATCH = 100  # params per log_batch call (MLflow's limit); metrics go 1000 at a time


TELEMETRY_OPT_OUT = "MLFLOW_DISABLE_TELEMETRY"  # MLflow 3 also honours DO_NOT_TRACK=true


def opt_out_of_telemetry() -> None:
    """MLflow 3 sends usage telemetry unless told not to; regapps tells it not to, before MLflow
    is imported (it decides then), unless the user set MLFLOW_DISABLE_TELEMETRY or DO_NOT_TRACK
    themselves."""
    if TELEMETRY_OPT_OUT not in os.environ and "DO_NOT_TRACK" not in os.environ:
        os.environ[TELEMETRY_OPT_OUT] = "true"


def require_mlflow() -> None:
    """Fail fast (without importing it) when MLflow is not installed."""
    if find_spec("mlflow") is None:
        raise ConfigError("--mlflow-uri needs MLflow: pip install 'regapps[mlflow]'")


def numeric(flat: Mapping[str, Any]) -> dict[str, float]:
    """The finite numbers of a flat mapping (booleans and text left out)."""
    return {k: float(v) for k, v in flat.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


class Tracker:
    """An MLflow experiment ``regapps-<app>`` and one parent run for the current command."""

    def __init__(self, uri: str, app: str, command: str):
        require_mlflow()
        opt_out_of_telemetry()
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        self.uri, self.command = uri, command
        name = f"regapps-{app}"
        try:
            self.client = MlflowClient(tracking_uri=uri)
            found = self.client.get_experiment_by_name(name)
            self.experiment_id = found.experiment_id if found else self.client.create_experiment(
                name, artifact_location=_artifact_location(uri, name))
            self.run_id = self.client.create_run(
                self.experiment_id, tags={"mlflow.runName": command, "regapps.command": command}).info.run_id
        except MlflowException as exc:
            raise ConfigError(f"--mlflow-uri {uri}: {str(exc.message).splitlines()[0]}") from exc
        log.info("MLflow run %s in experiment %s at %s", self.run_id, name, uri)

    # --- runs -------------------------------------------------------------------------------
    def end(self, status: str) -> None:
        self.client.set_terminated(self.run_id, status)

    def child(self, name: str, tags: Mapping[str, str] | None = None) -> str:
        return self.client.create_run(self.experiment_id, tags={
            "mlflow.runName": name, "mlflow.parentRunId": self.run_id, **(tags or {})}).info.run_id

    # --- logging ----------------------------------------------------------------------------
    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(k[:250], json.dumps(v) if not isinstance(v, str) else v)
                 for k, v in params.items()]
        for i in range(0, len(items), BATCH):
            self.client.log_batch(run_id, params=items[i:i + BATCH])

    def log_metrics(self, run_id: str, metrics: Mapping[str, float], step: int = 0) -> None:
        self.log_series(run_id, [(step, dict(metrics))])

    def log_series(self, run_id: str, steps: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(_key(k), v, now, step) for step, values in steps
                 for k, v in numeric(values).items()]
        for i in range(0, len(items), 1000):
            self.client.log_batch(run_id, metrics=items[i:i + 1000])

    def log_trial(self, row: Mapping[str, Any], history: Mapping[str, list[Any]] | None,
                  metric: str) -> None:
        """One cv trial as a nested run: its parameters, per-epoch history and score."""
        run_id = self.child(f"trial c{row['candidate']} r{row['rung']} f{row['fold']} s{row['seed']}",
                            {"regapps.kind": "trial"})
        self.log_params(run_id, {k: v for k, v in row.items() if k not in ("score", "seconds",
                                                                           "epochs_run", "best_epoch")})
        self.log_series(run_id, _epochs(history))
        self.log_metrics(run_id, {f"cv_{metric}": row["score"], "seconds": row["seconds"],
                                  "epochs_run": row["epochs_run"], "best_epoch": row["best_epoch"]})
        self.client.set_terminated(run_id)

    def log_result(self, result: Mapping[str, Any]) -> None:
        """A command's result: its run directory, and a cv run's refitted winner as a child."""
        if result.get("run_dir"):
            self.log_run_dir(Path(result["run_dir"]))
        if result.get("refit_run_dir"):
            refit = Path(result["refit_run_dir"])
            self.log_run_dir(refit, self.child(f"refit {refit.name}", {"regapps.kind": "refit"}))

    def log_run_dir(self, folder: Path, run_id: str | None = None) -> None:
        """A regapps run directory: params from its config, per-epoch metrics from its history,
        final metrics, and its reports, tables, plots and model as artifacts."""
        run_id = run_id or self.run_id
        if run_id == self.run_id:
            self.client.set_tag(run_id, "mlflow.runName", folder.name)
        self.client.set_tag(run_id, "regapps.run_dir", str(folder))
        for name in ("config.json", "search.json"):
            if (folder / name).is_file():
                tree = json.loads((folder / name).read_text(encoding="utf-8"))
                tree.pop("meta", None)
                self.log_params(run_id, flatten(tree))
        if (folder / "history.csv").is_file():
            self.log_series(run_id, _epochs(_read_history(folder / "history.csv")))
        for name in ("metrics.json", "cv_summary.json"):
            if (folder / name).is_file():
                self.log_metrics(run_id, flatten(json.loads((folder / name).read_text(encoding="utf-8"))))
        for path in sorted(folder.iterdir()):
            if path.is_file() and (path.name in ARTIFACTS or path.suffix == ".png"):
                self.client.log_artifact(run_id, str(path))


def _key(name: str) -> str:
    """MLflow metric names allow letters, digits and ``_-./ ``."""
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in name)[:250]


def _epochs(history: Mapping[str, list[Any]] | None) -> list[tuple[int, dict[str, Any]]]:
    if not history:
        return []
    length = max(len(v) for v in history.values())
    return [(i + 1, {k: v[i] for k, v in history.items() if i < len(v) and v[i] is not None})
            for i in range(length)]


def _read_history(path: Path) -> dict[str, list[Any]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    keys = [k for k in (rows[0] if rows else {}) if k != "epoch"]
    return {k: [float(r[k]) if r.get(k) not in (None, "") else None for r in rows] for k in keys}


def _artifact_location(uri: str, experiment: str) -> str | None:
    """Artifacts of a ``sqlite:///path/db`` store go beside the database (MLflow's default is
    ``./mlruns`` under whatever folder the command runs in)."""
    parsed = urlparse(uri)
    if parsed.scheme != "sqlite" or not parsed.path.strip("/"):
        return None
    db = Path(uri.removeprefix("sqlite:///"))
    return (db.resolve().parent / "mlartifacts" / experiment).as_uri()


@contextlib.contextmanager
def tracked(uri: str | None, app: str, command: str) -> Iterator[Tracker | None]:
    """An MLflow parent run around a command (nothing without a URI): FINISHED when the command
    returns, KILLED when interrupted, FAILED otherwise."""
    if not uri:
        yield None
        return
    tracker = Tracker(uri, app, command)
    status = "FAILED"
    try:
        yield tracker
        status = "FINISHED"
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        tracker.end(status)
