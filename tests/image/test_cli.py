"""The image CLI: help without TensorFlow, one-line errors with exit code 2, and a real
end-to-end digits run (train -> evaluate -> predict)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ..helpers import assert_one_error, main_json, modules_imported_by
from .fixtures import cifar_files, write_archive, write_image_tree


def test_help_does_not_import_tensorflow() -> None:
    loaded = modules_imported_by([['--help'], ['image', '--help'], ['image', 'train', '--help'], ['image', 'train', '--dropout', '1.5']],
                                 ("tensorflow", "keras"))
    assert not any(loaded.values()), loaded


def test_version(cli: Any) -> None:
    result = cli("--version")
    assert result.code == 0 and result.stdout.startswith("regapps 0.")


@pytest.mark.parametrize("args", [["--help"], ["image", "--help"], ["image", "train", "--help"],
                                  ["image", "evaluate", "--help"], ["image", "predict", "--help"], ["image"]])
def test_help_pages(cli: Any, args: list[str]) -> None:
    result = cli(*args)
    assert result.code == 0 and "Usage" in result.stdout




@pytest.mark.parametrize("args, fragment", [
    (["--dropout", "1.5"], "regularization.dropout=1.5"),
    (["--l2", "-1"], "regularization.l2=-1.0"),
    (["--optimizer", "adamx"], "unknown optimizer 'adamx'"),
    (["--epochs", "0"], "training.epochs=0"),
    (["--batch-size", "0"], "training.batch_size=0"),
    (["--epochs", "many"], "'--epochs'"),
    (["--preset", "huge"], "unknown preset 'huge'"),
    (["--dataset", "mnist"], "data.dataset='mnist'"),
    (["--set", "training.epochs"], "--set expects key.path=value"),
    (["--config", "/nonexistent.yaml"], "config file not found"),
    (["--no-such-flag"], "No such option"),
])
def test_bad_flags(cli: Any, args: list[str], fragment: str) -> None:
    assert_one_error(cli("image", "train", *args), fragment)


def test_bad_data_dirs(cli: Any, tmp_path: Path) -> None:
    runs = str(tmp_path / "runs")
    assert_one_error(cli("image", "train", "--data-dir", str(tmp_path / "missing"), "--runs-dir", runs),
                    "does not exist")
    (tmp_path / "empty").mkdir()
    assert_one_error(cli("image", "train", "--data-dir", str(tmp_path / "empty"), "--runs-dir", runs),
                    "is empty")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.txt").write_text("x")
    assert_one_error(cli("image", "train", "--data-dir", str(tmp_path / "flat"), "--runs-dir", runs),
                    "neither a CIFAR-10 archive nor class folders")
    write_image_tree(tmp_path / "imgs" / "train", {"a": 2, "b": 2})
    (tmp_path / "imgs" / "train" / "a" / "bad.jpg").write_bytes(b"\xff\xd8garbage")
    assert_one_error(cli("image", "train", "--data-dir", str(tmp_path / "imgs"), "--runs-dir", runs),
                    "bad.jpg is not a readable image")
    archive = write_archive(tmp_path / "c.tar.gz", cifar_files("binary", skip=("data_batch_4.bin",)))
    assert_one_error(cli("image", "train", "--data-dir", str(archive), "--runs-dir", runs),
                    "data_batch_4.bin")
    assert not (tmp_path / "runs").exists()  # no half-made run for bad input


def test_run_dir_must_be_a_finished_image_run(cli: Any, tmp_path: Path) -> None:
    assert_one_error(cli("image", "evaluate", str(tmp_path / "nope")), "run directory not found")
    assert_one_error(cli("image", "predict", str(tmp_path), "x.png"), "not a regapps run directory")
    (tmp_path / "status.json").write_text(json.dumps({"app": "image", "status": "running"}))
    assert_one_error(cli("image", "evaluate", str(tmp_path)), "not a finished run (status: running)")
    (tmp_path / "status.json").write_text(json.dumps({"app": "text", "status": "completed"}))
    assert_one_error(cli("image", "evaluate", str(tmp_path)), "run of the 'text' app")


# --- end to end on the offline default -----------------------------------------------------



@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    runs = tmp_path_factory.mktemp("runs")
    return main_json("image", "train", "--dataset", "digits", "--epochs", "40", "--seed", "1",
                      "--runs-dir", str(runs), "--json")


@pytest.mark.slow
def test_train_digits_end_to_end(digits_run: dict[str, Any]) -> None:
    metrics = digits_run["metrics"]
    assert metrics["test"]["accuracy"] >= 0.90
    assert metrics["validation"]["accuracy"] >= 0.90
    assert metrics["test"]["n"] == 360
    run = Path(digits_run["run_dir"])
    for name in ("config.json", "history.csv", "metrics.json", "model.keras", "report.md",
                 "learning_curves.png", "confusion_matrix.png", "checkpoints/best.keras"):
        assert (run / name).is_file(), name
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "completed"
    config = json.loads((run / "config.json").read_text())
    assert config["regularization"] == {"l1": 0.0, "l2": 0.001, "dropout": 0.5, "batchnorm": False}
    assert config["meta"]["input_shape"] == [8, 8, 1] and len(config["meta"]["data_sha256"]) == 64
    rows = (run / "history.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,") and len(rows) - 1 == metrics["training"]["epochs_run"]
    assert "| test |" in (run / "report.md").read_text()


@pytest.mark.slow
def test_evaluate_matches_training_metrics(digits_run: dict[str, Any]) -> None:
    result = main_json("image", "evaluate", digits_run["run_dir"], "--json")
    assert result["metrics"]["test"]["accuracy"] == pytest.approx(digits_run["metrics"]["test"]["accuracy"])
    assert Path(result["output_dir"], "confusion_matrix.png").is_file()


@pytest.mark.slow
def test_evaluate_and_predict_on_image_files(digits_run: dict[str, Any], tmp_path: Path) -> None:
    from PIL import Image
    from regapps.apps.image.data import load_digits

    data = load_digits()
    assert data.x_test is not None and data.y_test is not None
    paths = []
    for i in range(40):  # the first 40 test digits as PNG files in class folders
        label = int(data.y_test[i])
        path = tmp_path / "digits" / str(label) / f"{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(data.x_test[i, :, :, 0]).save(path)
        paths.append((path, label))
    evaluated = main_json("image", "evaluate", digits_run["run_dir"], "--data-dir",
                           str(tmp_path / "digits"), "--json")
    assert evaluated["metrics"]["test"]["n"] == 40
    assert evaluated["metrics"]["test"]["accuracy"] >= 0.85
    predicted = main_json("image", "predict", digits_run["run_dir"], *[str(p) for p, _ in paths[:10]],
                           "--json")["predictions"]
    assert len(predicted) == 10
    correct = sum(p["label"] == str(label) for p, (_, label) in zip(predicted, paths))
    assert correct >= 8
    for p in predicted:
        probs = [t["probability"] for t in p["top"]]
        assert len(probs) == 3 and probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001


@pytest.mark.slow
def test_predict_refuses_non_images(cli: Any, digits_run: dict[str, Any], tmp_path: Path) -> None:
    fake = tmp_path / "notes.png"
    fake.write_text("definitely not an image")
    assert_one_error(cli("image", "predict", digits_run["run_dir"], str(fake)), "notes.png is not a readable image")
    assert_one_error(cli("image", "predict", digits_run["run_dir"], str(tmp_path / "gone.png")), "image not found")


def test_cifar10_offline_fails_fast_naming_the_options(cli: Any, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import time

    from regapps.apps.image import data

    with socket.socket() as sock:  # a loopback port nobody listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(data, "CIFAR10_URL", f"http://127.0.0.1:{port}/cifar-10-binary.tar.gz")
    start = time.monotonic()
    result = cli("image", "train", "--runs-dir", str(tmp_path / "runs"))
    assert time.monotonic() - start < 15
    assert_one_error(result, "cannot reach 127.0.0.1")
    assert "--data-dir" in result.stderr and "--dataset digits" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_presets_lists_every_preset_with_settings_and_no_tensorflow() -> None:
    from ..helpers import main_json, modules_imported_by

    listed = main_json("image", "presets", "--json")["presets"]
    assert [p["name"] for p in listed] == ["article", "fast"]
    fast = listed[1]
    assert fast["settings"]["schedule.name"] == "onecycle" and fast["settings"]["augment.flip"] is True
    assert all(isinstance(p["recorded"], list) for p in listed)
    # a speed or budget figure holds for one machine only: every figure names the machine
    assert all(f["machine"] and f["figure"] and f["source"] for p in listed for f in p["recorded"])
    assert modules_imported_by([["image", "presets"]], ("tensorflow", "keras")) == {"tensorflow": False, "keras": False}
