"""The Python API: a cv and a compare run from Python, without Typer, give typed results and
the same run as the CLI; the CLI resolves a resumed run's config before TensorFlow starts."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ..helpers import main_json
from ..text.corpora import make_corpus, write_csv

TINY = {"model": {"max_tokens": 500, "sequence_length": 32, "embedding_dim": 16, "hidden_units": 16},
        "training": {"batch_size": 32, "patience": 3, "epochs": 4}}


@pytest.fixture
def reviews(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "reviews.csv", [(t, "pos" if y else "neg") for t, y in make_corpus(200, 5)])


def _scores(run_dir: str) -> list[tuple[str, str, float]]:
    with open(Path(run_dir) / "cv_results.csv", newline="", encoding="utf-8") as handle:
        return [(r["candidate"], r["fold"], float(r["score"])) for r in csv.DictReader(handle)]


@pytest.mark.slow
def test_cv_from_python_matches_the_cli(reviews: Path, tmp_path: Path) -> None:
    """``task.cv(config, space, ...)`` in a fresh interpreter (no Typer imported) returns a
    CVResult; the CLI's cv with the same settings records the same trials and scores."""
    code = f"""
import json, sys
from pathlib import Path
from regapps.apps.text import task
from regapps.apps.text.config import TextConfig
tree = {json.dumps(TINY)}
tree["data"] = {{"csv": {str(reviews)!r}}}
result = task.cv(TextConfig.model_validate(tree), {{"learning_rate": [0.01, 0.03]}}, folds=2,
                 runs_dir=Path({str(tmp_path / "py")!r}))
assert "typer" not in sys.modules
print(json.dumps({{"type": type(result).__name__, "best": result.best.params, "score": result.best.score,
                  "metric": result.best.metric, "run_dir": str(result.run_dir), "dict": result.to_dict()}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    py = json.loads(out.stdout.strip().splitlines()[-1])
    assert py["type"] == "CVResult" and py["metric"] == "accuracy"
    assert set(py["best"]) == {"optimizer.learning_rate"} and 0.5 <= py["score"] <= 1.0
    sets = [x for k, v in TINY.items() for f, val in v.items() for x in ("--set", f"{k}.{f}={val}")]
    cli = main_json("text", "cv", "--csv", str(reviews), "--grid", "learning_rate=0.01,0.03", "--folds", "2",
                    *sets, "--runs-dir", str(tmp_path / "cli"), "--json")
    mine = ("run_dir", "refit_run_dir", "history")  # where it ran, and its wall times
    assert {k: v for k, v in cli.items() if k not in mine} == {k: v for k, v in py["dict"].items() if k not in mine}
    assert [{k: v for k, v in p.items() if k != "seconds"} for p in cli["history"]] == \
        [{k: v for k, v in p.items() if k != "seconds"} for p in py["dict"]["history"]]
    assert _scores(cli["run_dir"]) == _scores(py["run_dir"])
    assert len(_scores(py["run_dir"])) == 4


@pytest.mark.slow
def test_compare_from_python(reviews: Path, tmp_path: Path) -> None:
    from regapps.apps.text import task
    from regapps.apps.text.config import TextConfig

    config = TextConfig.model_validate({**TINY, "data": {"csv": str(reviews)}})
    result = task.compare(config, "optimizers", ["sgd", "adam"], runs_dir=tmp_path)
    assert type(result).__name__ == "CompareResult"
    assert [row["variant"] for row in result.results] == ["sgd", "adam"]
    assert result.winner in ("sgd", "adam") and result.metric == "accuracy"
    saved = json.loads((Path(result.run_dir) / "metrics.json").read_text(encoding="utf-8"))
    assert saved == json.loads(json.dumps(result.to_dict()))


def test_cv_api_refuses_bad_settings_by_parameter_name(reviews: Path, tmp_path: Path) -> None:
    """Errors from the Python API name its parameters; nothing is created."""
    from regapps.apps.text import task
    from regapps.shared.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^folds must be at least 2"):
        task.cv(None, {"l2": [0.0]}, folds=1, runs_dir=tmp_path / "runs")
    with pytest.raises(ConfigError, match="search space is empty"):
        task.cv(None, {}, runs_dir=tmp_path / "runs")
    with pytest.raises(ConfigError, match="executor 'nope'"):
        task.cv(None, {"l2": [0.0]}, executor="nope", runs_dir=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def _interrupted_train_run(root: Path, app: str, config: Any) -> Path:
    from regapps.shared.runs import Run

    run = Run.create(root, app, "train", "interrupted")
    run.write_json("config.json", {**config.to_dict(), "meta": {"data_sha256": "x"}})
    run.set_status("interrupted")
    return run.path


@pytest.mark.parametrize("app", ["image", "text"])
def test_resume_starts_tensorflow_with_the_runs_strategy(app: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """``train --resume`` reads the run's config first: TensorFlow is set up with the strategy
    the run was started with (a multi-worker run must set it before the first op)."""
    import regapps.shared.environment as environment
    from regapps.apps.cli import main

    config_cls = {"image": "regapps.apps.image.config:ImageConfig",
                  "text": "regapps.apps.text.config:TextConfig"}[app]
    module, name = config_cls.split(":")
    cls = getattr(__import__(module, fromlist=[name]), name)
    run_dir = _interrupted_train_run(tmp_path, app, cls.model_validate({"training": {"strategy": "mirrored"}}))
    seen: list[str] = []

    class Stop(Exception):
        pass

    def fake_import(verbose: bool = False, strategy: str = "default") -> None:
        seen.append(strategy)
        raise Stop

    monkeypatch.setattr(environment, "import_tensorflow", fake_import)
    with pytest.raises(Stop):
        main([app, "train", "--resume", str(run_dir)])
    assert seen == ["mirrored"]
