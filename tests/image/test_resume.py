"""An interrupted `image train` resumes after its last finished epoch, like an uninterrupted run."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from regapps.shared.callbacks import BestKeeper


def _interrupt_after(monkeypatch: pytest.MonkeyPatch, epochs: int) -> None:
    original = BestKeeper.on_epoch_end

    def on_epoch_end(self: BestKeeper, epoch: int, logs: Any = None) -> None:
        original(self, epoch, logs)
        if epoch + 1 == epochs:
            raise KeyboardInterrupt  # as Ctrl-C would, right after the epoch's checkpoint

    monkeypatch.setattr(BestKeeper, "on_epoch_end", on_epoch_end)


@pytest.mark.slow
def test_interrupted_train_resumes(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["image", "train", "--dataset", "digits", "--epochs", "6", "--seed", "5",
            "--no-early-stopping", "--json"]
    full = cli(*args, "--runs-dir", str(tmp_path / "full"))
    assert full.code == 0, full.stderr
    reference = json.loads(full.stdout)["metrics"]

    with monkeypatch.context() as patch:
        _interrupt_after(patch, 3)
        stopped = cli(*args, "--runs-dir", str(tmp_path / "cut"))
    assert stopped.code == 130 and "interrupted" in stopped.stderr
    run = next((tmp_path / "cut" / "image").iterdir())
    assert json.loads((run / "status.json").read_text())["status"] == "interrupted"
    assert json.loads((run / "checkpoints" / "state.json").read_text())["epoch"] == 3
    assert not (run / "metrics.json").exists()

    refused = cli("image", "train", "--resume", str(run), "--epochs", "9")
    assert refused.code == 2 and "--resume continues a run" in refused.stderr
    resumed = cli("image", "train", "--resume", str(run), "--json")
    assert resumed.code == 0, resumed.stderr
    metrics = json.loads(resumed.stdout)["metrics"]
    with open(run / "history.csv", newline="") as handle:
        epochs = [int(r["epoch"]) for r in csv.DictReader(handle)]
    assert epochs == [1, 2, 3, 4, 5, 6]  # no epoch redone, none skipped
    assert metrics["training"]["epochs_run"] == 6
    assert json.loads((run / "status.json").read_text())["status"] == "completed"
    # same result as the uninterrupted run, within the tolerance of a reshuffled data order
    assert abs(metrics["test"]["accuracy"] - reference["test"]["accuracy"]) < 0.04
    again = cli("image", "train", "--resume", str(run))
    assert again.code == 2 and "already finished" in again.stderr
