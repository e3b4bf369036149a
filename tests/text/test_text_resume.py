"""An interrupted `text train` resumes after its last finished epoch."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from ..image.test_resume import _interrupt_after
from .corpora import TINY_MODEL, make_corpus, write_csv


@pytest.mark.slow
def test_interrupted_text_train_resumes(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reviews = write_csv(tmp_path / "reviews.csv", [(t, "pos" if y else "neg") for t, y in make_corpus(300, 2)])
    tiny = [a for pair in zip(TINY_MODEL[::2], TINY_MODEL[1::2]) if pair[0] not in ("--epochs", "--patience")
            for a in pair]
    args = ["text", "train", "--csv", str(reviews), *tiny, "--epochs", "4", "--seed", "3",
            "--no-early-stopping", "--json"]
    full = cli(*args, "--runs-dir", str(tmp_path / "full"))
    assert full.code == 0, full.stderr
    reference = json.loads(full.stdout)["metrics"]
    with monkeypatch.context() as patch:
        _interrupt_after(patch, 2)
        stopped = cli(*args, "--runs-dir", str(tmp_path / "cut"))
    assert stopped.code == 130
    run = next((tmp_path / "cut" / "text").iterdir())
    assert json.loads((run / "status.json").read_text())["status"] == "interrupted"
    assert json.loads((run / "checkpoints" / "state.json").read_text())["epoch"] == 2

    assert cli("text", "train", "--resume", str(run), "--epochs", "9").code == 2  # settings are the run's
    resumed = cli("text", "train", "--resume", str(run), "--json")
    assert resumed.code == 0, resumed.stderr
    metrics = json.loads(resumed.stdout)["metrics"]
    with open(run / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    with open(tmp_path / "full" / "text" / next(iter(p.name for p in (tmp_path / "full" / "text").iterdir()))
              / "history.csv", newline="") as handle:
        first_two = [float(r["val_loss"]) for r in list(csv.DictReader(handle))[:2]]
    assert [float(r["val_loss"]) for r in rows[:2]] == pytest.approx(first_two, rel=1e-6)
    assert metrics["training"]["epochs_run"] == 4
    assert abs(metrics["validation"]["accuracy"] - reference["validation"]["accuracy"]) < 0.05
    assert json.loads((run / "status.json").read_text())["status"] == "completed"
    assert "already finished" in cli("text", "train", "--resume", str(run)).stderr
