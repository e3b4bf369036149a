"""Self-tuning search in the real apps: each app's default space, TPE with pruning from the CLI
on every executor, and the time budget with resume."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from ..helpers import WORKER_THREADS, main_json

TPE = ["image", "cv", "--dataset", "digits", "--space", "learning_rate=3e-4..3e-3:log", "--space", "dropout=0..0.5",
       "--search", "tpe", "--prune", "--n-iter", "4", "--eta", "2", "--folds", "2", "--epochs", "3", "--seed", "7",
       "--json"]


def _rows(run_dir: str | Path) -> dict[tuple[str, ...], dict[str, str]]:
    with open(Path(run_dir) / "cv_results.csv", newline="") as handle:
        return {(r["candidate"], r["rung"], r["fold"], r["seed"]): r for r in csv.DictReader(handle)}


@pytest.mark.parametrize("app, tree, keys", [
    ("image", {}, {"regularization.l2", "regularization.dropout", "optimizer.name", "optimizer.learning_rate",
                   "training.batch_size"}),
    ("image", {"model": {"preset": "fast"}}, {"optimizer.weight_decay", "regularization.dropout",
                                              "optimizer.learning_rate", "training.label_smoothing",
                                              "training.batch_size"}),
    ("text", {}, {"regularization.dropout", "regularization.l2", "optimizer.name",
                  "optimizer.learning_rate", "training.batch_size"}),
    ("text", {"model": {"pooling": "average"}}, {"regularization.dropout", "regularization.l2", "optimizer.name",
                                                 "optimizer.learning_rate", "training.batch_size"}),
    ("ts", {}, {"regularization.l2", "regularization.dropout", "optimizer.name", "optimizer.learning_rate",
                "training.batch_size"}),
])
def test_each_app_has_a_default_space_holding_its_defaults(app: str, tree: dict[str, Any], keys: set[str]) -> None:
    """No space given: the app's own, searched by TPE, which tries the configuration ``train``
    would use first; every default lies inside the space."""
    import importlib

    from regapps.shared import toolkit

    obj = getattr(importlib.import_module(f"regapps.apps.{app}.task"), app.upper())
    request = toolkit.plan_cv(obj, tree)
    plan = request.plan
    assert plan.search == "tpe" and plan.n_iter == 10 and set(plan.space) == keys
    assert set(plan.first) == keys  # each default in its range or list
    config = obj.config_cls.model_validate(tree).to_dict()
    for key, value in plan.first.items():
        section, name = key.split(".")
        assert config[section][name] == value


def test_cv_help_lists_the_default_spaces() -> None:
    from regapps.apps.cli import app
    from typer.testing import CliRunner

    out = CliRunner().invoke(app, ["text", "cv", "--help"], env={"COLUMNS": "200"})
    assert out.exit_code == 0
    text = " ".join(out.output.split())
    assert "Default search space" in text and "learning_rate=3e-3..1e-1:log" in text
    assert "--space" in text and "--prune" in text and "tpe" in text


@pytest.fixture(scope="module")
def sequential(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return main_json(*TPE, "--runs-dir", str(tmp_path_factory.mktemp("seq")))


@pytest.mark.slow
def test_tpe_with_pruning_from_the_cli(sequential: dict[str, Any]) -> None:
    run = Path(sequential["run_dir"])
    rows = _rows(run)
    assert {c for c, *_ in rows} == {"0", "1", "2", "3"}
    complete = {c for c, rung, *_ in rows if rung == "1"}  # rungs of 1 and 3 epochs
    assert complete and all(len([k for k in rows if k[:2] == (c, "0")]) == 2 for c in "0123")  # both folds
    assert all({k[1] for k in rows if k[0] == c} == {"0"} for c in set("0123") - complete)  # pruned at 1 epoch
    if len(complete) >= 3:  # importance needs three finished candidates
        assert set(sequential["importance"]) == {"optimizer.learning_rate", "regularization.dropout"}
    else:
        assert sequential["importance"] == {}
    assert len(sequential["history"]) == 4 and sequential["test"]["accuracy"] > 0.8
    first = next(r for r in rows.values() if r["candidate"] == "0")
    assert json.loads(first["param:optimizer.learning_rate"]) == 1e-3  # the article's, tried first
    assert json.loads(first["param:regularization.dropout"]) == 0.5
    for name in ("optimization_history.png", "report.html"):
        assert (run / name).is_file()
    assert (run / "parallel_coordinates.png").is_file() == (len(complete) >= 2)  # of finished candidates


@pytest.mark.slow
@pytest.mark.parametrize("where", ["local", "dask"])
def test_tpe_with_pruning_on_process_executors_matches_sequential(where: str, sequential: dict[str, Any],
                                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 request: pytest.FixtureRequest) -> None:
    """Workers retrain a survivor from scratch to the rung's epoch: the same scores, so TPE and
    the pruner decide the same."""
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", WORKER_THREADS)
    extra = ["--executor", "local", "--jobs", "2"] if where == "local" else \
        ["--executor", "dask", "--scheduler", request.getfixturevalue("cluster").scheduler_address]
    result = main_json(*TPE, *extra, "--runs-dir", str(tmp_path))
    rows, ref = _rows(result["run_dir"]), _rows(sequential["run_dir"])
    assert rows.keys() == ref.keys()
    for key, row in rows.items():
        assert abs(float(row["score"]) - float(ref[key]["score"])) <= 1e-9, key
    assert result["best"] == sequential["best"]


@pytest.mark.slow
def test_time_budget_stops_the_search_and_resume_goes_on(tmp_path: Path) -> None:
    """A real clock: 30 candidates cannot fit in 0.3 minutes, so the search stops early, writes a
    complete report of what finished, and ``--resume`` (with a budget of its own) goes on."""
    args = ["image", "cv", "--dataset", "digits", "--space", "learning_rate=3e-4..3e-3:log", "--n-iter", "30",
            "--folds", "2", "--epochs", "2", "--json", "--runs-dir", str(tmp_path)]
    first = main_json(*args, "--time-budget", "0.3")
    run = Path(first["run_dir"])
    assert first["stopped"] and "--resume" in first["stopped"]
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "completed" and status["budget_exhausted"] is True
    before = _rows(run)
    assert 0 < len({c for c, *_ in before}) < 30 and all(len([k for k in before if k[0] == c]) == 2
                                                        for c, *_ in before)  # whole candidates only
    again = main_json("image", "cv", "--resume", str(run), "--time-budget", "0.3", "--json")
    after = _rows(run)
    assert set(before) < set(after)  # more trials, none lost or redone
    assert all(after[k]["score"] == before[k]["score"] for k in before)
    assert again["run_dir"] == first["run_dir"] and Path(again["refit_run_dir"]).is_dir()
    assert not Path(first["refit_run_dir"]).exists() or first["refit_run_dir"] == again["refit_run_dir"]


@pytest.mark.slow
def test_tpe_with_pruning_in_the_text_and_ts_apps(tmp_path: Path) -> None:
    """The other two apps from the CLI: text maximizes accuracy, ts minimizes MASE."""
    from ..text.corpora import make_corpus
    from ..text.corpora import write_csv as write_reviews
    from ..ts.synth import ar1_returns, price_frame
    from ..ts.synth import write_csv as write_prices

    reviews = write_reviews(tmp_path / "reviews.csv", [(t, "pos" if y else "neg") for t, y in make_corpus(240, 3)])
    text = main_json("text", "cv", "--csv", str(reviews), "--space", "learning_rate=3e-3..1e-1:log",
                     "--space", "dropout=0..0.5", "--search", "tpe", "--prune", "--n-iter", "3", "--folds", "2",
                     "--epochs", "3", "--runs-dir", str(tmp_path), "--json")
    prices = write_prices(tmp_path / "ar.csv", price_frame(ar1_returns(1200, 0.7, seed=2), ohlcv=True))
    ts = main_json("ts", "cv", "--csv", str(prices), "--space", "learning_rate=1e-3..1e-2:log", "--search", "tpe",
                   "--prune", "--n-iter", "3", "--folds", "2", "--epochs", "3", "--test-size", "100",
                   "--set", "training.batch_size=64", "--runs-dir", str(tmp_path), "--json")
    for result, pick in ((text, max), (ts, min)):
        rows = _rows(result["run_dir"])
        finished = {c: [float(r["score"]) for k, r in rows.items() if k[0] == c and k[1] == "1"]  # 1, 3 epochs
                    for c in {k[0] for k in rows}}
        means = [sum(v) / len(v) for v in finished.values() if v]
        assert len({k[0] for k in rows}) == 3 and result["best"]["score"] == pytest.approx(pick(means))
    assert text["best"]["metric"] == "accuracy" and ts["best"]["metric"] == "mase"
    assert ts["test"]["lstm_mase"] > 0
