"""Interrupting `image train` for real: SIGINT and SIGTERM to a running process keep the last
finished epoch's checkpoint (consistent with state.json), mark the run interrupted, exit 130/143,
and `train --resume` finishes it; `kill -9` never leaves a run that looks finished."""
from __future__ import annotations

import csv
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from regapps.shared.callbacks import BestKeeper

from ..helpers import main_json
from ..procs import first, start, wait_for

EPOCHS, SEED = 8, 7
ARGS = ["image", "train", "--dataset", "digits", "--epochs", str(EPOCHS), "--batch-size", "32",
        "--seed", str(SEED), "--no-early-stopping", "--json"]
METRICS = ("epoch", "accuracy", "loss", "val_accuracy", "val_loss", "learning_rate")
# Resuming is exact up to the interruption; after it the data order and dropout masks restart
# from the seed (they are not part of a checkpoint), so later epochs differ like another shuffle.
# Measured on digits (these settings, resumed after each of epochs 1-7): |test accuracy
# difference| at most 0.0083 (3 of 360 images); each resume point gives one fixed value.
RESUME_TOLERANCE = 0.02


def _history(run: Path) -> list[dict[str, str]]:
    with open(run / "history.csv", newline="") as handle:
        return [{k: row[k] for k in METRICS} for row in csv.DictReader(handle)]


def _status(run: Path) -> str:
    return json.loads((run / "status.json").read_text())["status"]


def _val_loss(checkpoint: Path) -> float:
    """The validation loss of a saved checkpoint, computed as training computes it."""
    import keras
    from regapps.apps.image.data import load_digits, make_dataset, split_indices

    data = load_digits()
    _, val_idx = split_indices(data.y_train, 0.2, SEED)
    model = keras.saving.load_model(checkpoint, compile=False)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy())
    val = make_dataset(data.x_train, data.y_train, 256, indices=val_idx, shuffle=False, seed=SEED)
    return float(model.evaluate(val, verbose=0))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The same training, uninterrupted."""
    out = main_json(*ARGS, "--runs-dir", str(tmp_path_factory.mktemp("reference")))
    return out["metrics"], _history(Path(out["run_dir"]))


@pytest.mark.slow
@pytest.mark.parametrize("signame, code, word", [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
def test_signal_during_train_then_resume(signame: str, code: int, word: str, reference: Any, cli: Any,
                                         tmp_path: Path) -> None:
    ref_metrics, ref_history = reference
    proc = start(*ARGS, "--runs-dir", str(tmp_path))
    state_file = wait_for(lambda: first("image/*/checkpoints/state.json", tmp_path), proc)
    time.sleep(0.3)  # into a later epoch, wherever it is
    proc.send_signal(getattr(signal, signame))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err[-2000:]
    assert err.strip().splitlines()[-1] == f"regapps: error: {word}" and out == ""
    run = state_file.parent.parent
    assert _status(run) == "interrupted"
    assert not (run / "metrics.json").exists() and not (run / "model.keras").exists()
    epoch = json.loads(state_file.read_text())["epoch"]
    assert 1 <= epoch < EPOCHS
    history = _history(run)
    assert len(history) in (epoch, epoch + 1)  # a history row may land just before its checkpoint
    assert history[:epoch] == ref_history[:epoch]  # same seed: bit-identical epochs
    # the checkpoint is the state file's epoch, not a later or half-saved one
    assert _val_loss(run / "checkpoints" / "last.keras") == pytest.approx(
        float(history[epoch - 1]["val_loss"]), rel=1e-6)

    resumed = cli("image", "train", "--resume", str(run), "--json")
    assert resumed.code == 0, resumed.stderr
    metrics = json.loads(resumed.stdout)["metrics"]
    history = _history(run)
    assert [int(r["epoch"]) for r in history] == list(range(1, EPOCHS + 1))
    assert history[:epoch] == ref_history[:epoch] and metrics["training"]["epochs_run"] == EPOCHS
    assert _status(run) == "completed"
    assert abs(metrics["test"]["accuracy"] - ref_metrics["test"]["accuracy"]) <= RESUME_TOLERANCE


def test_signal_between_checkpoint_files_is_held(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A signal that arrives after last.keras is saved but before state.json is written is held
    until both are on disk, so the two always describe the same epoch."""
    saved: list[str] = []
    original = BestKeeper._save

    def save_then_signal(self: BestKeeper, name: str) -> None:
        original(self, name)
        saved.append(name)
        if saved.count("last.keras") == 2 and name == "last.keras":
            os.kill(os.getpid(), signal.SIGTERM)  # handled by regapps' own SIGTERM handler

    monkeypatch.setattr(BestKeeper, "_save", save_then_signal)
    result = cli("image", "train", "--dataset", "digits", "--epochs", "4", "--no-early-stopping",
                 "--runs-dir", str(tmp_path))
    assert result.code == 143 and "terminated" in result.stderr
    run = next((tmp_path / "image").iterdir())
    assert _status(run) == "interrupted" and saved.count("last.keras") == 2
    assert json.loads((run / "checkpoints" / "state.json").read_text())["epoch"] == 2


@pytest.mark.slow
def test_kill_9_never_leaves_a_finished_looking_run(cli: Any, tmp_path: Path) -> None:
    """SIGKILL after a checkpoint and while the results are being written: status.json never
    says completed, every file present is whole, and the killed run resumes to completion."""
    points = {"checkpoint": "image/*/checkpoints/state.json", "results": "image/*/metrics.json"}
    short = [*ARGS[:4], "--epochs", "3", *ARGS[6:]]
    killed = {}
    for point, pattern in points.items():
        root = tmp_path / point
        proc = start(*short, "--runs-dir", str(root))
        found = wait_for(lambda: first(pattern, root), proc, every=0.002)
        proc.kill()
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL
        run = found.parent if point == "results" else found.parent.parent
        assert _status(run) == "running", point  # not completed, not even failed
        for path in run.rglob("*"):  # atomic writes: no truncated file under its real name
            if path.suffix == ".json" and not path.name.startswith("."):
                json.loads(path.read_text())
        report = run / "report.md"
        assert not report.exists() or "## Configuration" in report.read_text()  # whole or absent
        if point == "checkpoint":
            assert not any((run / name).exists() for name in ("metrics.json", "model.keras", "report.md"))
        killed[point] = run
    resumed = cli("image", "train", "--resume", str(killed["results"]), "--json")
    assert resumed.code == 0, resumed.stderr
    assert json.loads(resumed.stdout)["metrics"]["training"]["epochs_run"] == 3
    assert _status(killed["results"]) == "completed"


def test_each_main_call_reports_its_own_signal(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A SIGTERM in one in-process main() call does not turn a later Ctrl-C into 'terminated'."""
    from regapps.apps import cli as cli_module

    def sigterm(**_: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends

    def ctrl_c(**_: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "app", sigterm)
    first_call = cli("image", "train")
    monkeypatch.setattr(cli_module, "app", ctrl_c)
    second_call = cli("image", "train")
    assert (first_call.code, first_call.stderr) == (143, "regapps: error: terminated\n")
    assert (second_call.code, second_call.stderr) == (130, "regapps: error: interrupted\n")
