"""`regapps image cv` and `compare` on digits: a planted bad configuration ranks last, bad input
exits 2, and the HTML report renders in a real (headless) browser with its images loaded."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ..helpers import assert_one_error, main_json


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    runs = tmp_path_factory.mktemp("cvruns")
    return main_json("image", "cv", "--dataset", "digits", "--grid", "learning_rate=1e-3,10",
                      "--grid", "dropout=0,0.5", "--folds", "2", "--epochs", "6", "--seed", "3",
                      "--runs-dir", str(runs), "--json")


@pytest.mark.slow
def test_planted_bad_learning_rate_ranks_last(cv_run: dict[str, Any]) -> None:
    assert cv_run["best"]["params"]["optimizer.learning_rate"] == 1e-3
    with open(Path(cv_run["run_dir"]) / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ranked = sorted(rows, key=lambda r: int(r["rank"]))
    assert [float(r["optimizer.learning_rate"]) for r in ranked[-2:]] == [10.0, 10.0]
    assert float(ranked[0]["mean"]) > 0.8 > 0.2 > float(ranked[-1]["mean"])
    assert cv_run["test"]["accuracy"] > 0.8  # refit of the winner, scored once on the test split
    with open(Path(cv_run["run_dir"]) / "cv_results.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 4 * 2


@pytest.mark.slow
def test_best_config_trains_with_train_config(cv_run: dict[str, Any], cli: Any, tmp_path: Path) -> None:
    best = Path(cv_run["run_dir"]) / "best_config.yaml"
    result = cli("image", "train", "--config", str(best), "--epochs", "1", "--runs-dir", str(tmp_path), "--json")
    assert result.code == 0, result.stderr
    config = json.loads((Path(json.loads(result.stdout)["run_dir"]) / "config.json").read_text())
    assert config["optimizer"]["learning_rate"] == 1e-3 and config["data"]["dataset"] == "digits"


def require_chromium() -> str:
    """Debian's chromium, or a skip: a failure under CI=true, where .ci/run installs it and a
    skipped report test would let a broken report through."""
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but chromium is not installed: the report-rendering test cannot "
                        "be skipped in CI (.ci/run installs it: apt-get install chromium)")
        pytest.skip("needs Debian's chromium (.ci/run installs it)")
    return found


def test_missing_chromium_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true but chromium is not installed"):
        require_chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_chromium()


@pytest.mark.slow
def test_report_html_renders_with_images(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    chromium = require_chromium()  # before the cv run it needs is made
    cv_run: dict[str, Any] = request.getfixturevalue("cv_run")
    report = Path(cv_run["run_dir"]) / "report.html"
    page = report.read_text()
    assert "http://" not in page and "https://" not in page  # self-contained
    probe = tmp_path / "probe.html"  # the report plus a script that records what loaded
    probe.write_text(page.replace("</body>", (
        "<script>window.addEventListener('load', () => {"
        "const imgs = [...document.images];"
        "const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;"
        "const tables = document.querySelectorAll('table').length;"
        "document.body.setAttribute('data-probe', `images=${imgs.length};loaded=${ok};tables=${tables}`);"
        "});</script></body>")))
    out = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                          "--virtual-time-budget=5000", probe.as_uri()],
                         capture_output=True, text=True, timeout=120)
    match = re.search(r'data-probe="images=(\d+);loaded=(\d+);tables=(\d+)"', out.stdout)
    assert match, out.stderr[-1000:]
    images, loaded, tables = map(int, match.groups())
    assert images >= 3 and loaded == images  # curves, heatmap, learning curves all decoded
    assert tables >= 2 and "Candidates" in out.stdout




@pytest.mark.parametrize("args, fragment", [
    (["--grid", "dropout=2"], "--grid regularization.dropout=2"),
    (["--grid", "unknown_key=1"], "unknown key 'unknown_key'"),
    (["--grid", "l2="], "--grid l2= has no values"),
    (["--grid", "l2=0,1e-3", "--folds", "1"], "--folds must be at least 2"),
    (["--grid", "l2=1e-3", "--search", "halving"], "halving needs at least 2 candidates"),
])
def test_cv_bad_input(cli: Any, tmp_path: Path, args: list[str], fragment: str) -> None:
    assert_one_error(cli("image", "cv", "--dataset", "digits", "--runs-dir", str(tmp_path), *args), fragment)
    assert not any(tmp_path.iterdir())


def test_cv_folds_larger_than_smallest_class(cli: Any, tmp_path: Path) -> None:
    result = cli("image", "cv", "--dataset", "digits", "--grid", "l2=0,1e-3", "--folds", "500",
                 "--runs-dir", str(tmp_path))
    assert_one_error(result, "larger than the smallest class")


def test_cv_resume_on_a_non_cv_folder(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "status.json").write_text(json.dumps({"app": "image", "command": "train", "status": "failed"}))
    result = cli("image", "cv", "--dataset", "digits", "--grid", "l2=0,1e-3", "--resume", str(tmp_path),
                 "--runs-dir", str(tmp_path / "runs"))
    assert_one_error(result, "is not a cv run")


def test_cv_resume_alone_refuses_other_runs_and_other_settings(cli: Any, tmp_path: Path) -> None:
    train, text = tmp_path / "train", tmp_path / "text"
    for folder, app, command in ((train, "image", "train"), (text, "text", "cv")):
        folder.mkdir()
        (folder / "status.json").write_text(json.dumps({"app": app, "command": command, "status": "interrupted"}))
    assert_one_error(cli("image", "cv", "--resume", str(train)), "is not a cv run")
    assert_one_error(cli("image", "cv", "--resume", str(text)), "is a run of the 'text' app, not 'image'")
    assert_one_error(cli("image", "cv", "--resume", str(text), "--folds", "4"), "drop --folds")
    assert_one_error(cli("image", "cv", "--resume", str(text), "--epochs", "4"), "drop the setting")


@pytest.mark.slow
def test_compare_optimizers_same_budget(tmp_path: Path) -> None:
    result = main_json("image", "compare", "--dataset", "digits", "--optimizers", "sgd,adam",
                        "--epochs", "3", "--runs-dir", str(tmp_path), "--json")
    rows = {r["variant"]: r for r in result["results"]}
    assert set(rows) == {"sgd", "adam"} and result["winner"] == "adam"
    assert rows["adam"]["best"] > rows["sgd"]["best"]  # plain SGD at 1e-3 barely moves in 3 epochs
    assert all(r["epochs_run"] == 3 for r in rows.values())
    assert (Path(result["run_dir"]) / "curves_accuracy.png").is_file()


def test_compare_needs_exactly_one_kind(cli: Any) -> None:
    assert_one_error(cli("image", "compare", "--optimizers", "adam", "--regularizers", "l2"), "exactly one of")
    assert_one_error(cli("image", "compare", "--regularizers", "l2,dropconnect"), "unknown regularizer 'dropconnect'")
