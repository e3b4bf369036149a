"""Saved models at real size: each app trains briefly on the full data in ``$REGAPPS_BENCH_DATA``
(one epoch is enough), then ``evaluate`` and ``predict`` run in fresh processes on a held-out
part given in a test-only layout, and a fresh process loads ``model.keras`` and predicts a probe.

Per app it prints the model file's size, the fresh process's load time (as a ratio to its
``import tensorflow`` time, so machines compare), whether the fresh predictions agree with the
training process's (max |difference| of the probabilities), and the metrics both processes got.

    REGAPPS_BENCH_DATA=../shared/data python bench/roundtrip.py [--apps text,image,ts]
    REGAPPS_BENCH_DATA=../shared/data python bench/roundtrip.py --apps image --image-preset fast

Layouts, made from the training archives under a scratch folder:
- text: 20,000 reviews as ``aclImdb/{train,test}/{pos,neg}`` (train + a 5,000 test split), and
  the same 5,000 alone as ``test/{pos,neg}`` for ``evaluate``;
- image: 45,000 images as ``cifar-10-batches-bin/data_batch_{1..5}.bin`` + a 5,000-image
  ``test_batch.bin``, and that test batch alone (with ``batches.meta.txt``) for ``evaluate``;
- ts: the full AAPL series as CSV; its saved LSTM is loaded and probed (ts has no evaluate).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_data, print_machine, print_table  # noqa: E402

PROBE = 300
AWKWARD = ["Loved it\x85 truly\u2028great.", "awful\x1c\x1d\x1e film", "", "   ", "\u00a0\u3000",
           "x" * 5000, "b\u00e9b\u00e9 \U0001F600 ok", "zero\u200bwidth\x00null"]


# --- data layouts ------------------------------------------------------------------------------

def text_layouts(work: Path) -> tuple[Path, Path, list[str]]:
    from regapps.apps.text.formats import read_acl_tarball

    local = read_acl_tarball(_data() / "aclImdb-train.tar.gz")
    assert local.train is not None
    order = np.random.default_rng(0).permutation(len(local.train.y))
    test, train = order[:5000], order[5000:]
    both, alone = work / "text-train", work / "text-test"
    for idx, _split, roots in ((train, "train", [both / "aclImdb/train"]),
                              (test, "test", [both / "aclImdb/test", alone / "test"])):
        for root in roots:
            for label in ("pos", "neg"):
                (root / label).mkdir(parents=True, exist_ok=True)
            for i in idx:
                label = "pos" if local.train.y[i] else "neg"
                (root / label / f"{i}_{8 if local.train.y[i] else 2}.txt").write_text(
                    local.train.x[i], encoding="utf-8")
    return both, alone, [local.train.x[i] for i in test[:PROBE]] + [t for t in AWKWARD if t.strip()]


def image_layouts(work: Path) -> tuple[Path, Path, np.ndarray]:
    from regapps.apps.image.formats import read_cifar_archive

    local = read_cifar_archive(_data() / "cifar-10-binary-train.tar.gz")
    assert local.train is not None
    x, y = local.train.x, local.train.y
    order = np.random.default_rng(0).permutation(len(y))
    test, train = order[:5000], order[5000:]
    both, alone = work / "image-train" / "cifar-10-batches-bin", work / "image-test" / "cifar-10-batches-bin"
    for folder in (both, alone):
        folder.mkdir(parents=True)
        (folder / "batches.meta.txt").write_text("\n".join(local.class_names) + "\n", encoding="utf-8")
        (folder / "test_batch.bin").write_bytes(_records(x[test], y[test]))
    for k, part in enumerate(np.array_split(train, 5), start=1):
        (both / f"data_batch_{k}.bin").write_bytes(_records(x[part], y[part]))
    return both.parent, alone.parent, x[test[:PROBE]]


def _records(x: np.ndarray, y: np.ndarray) -> bytes:
    """CIFAR-10 binary records: label byte + R, G, B planes."""
    planes = x.transpose(0, 3, 1, 2).reshape(len(x), -1)
    return np.concatenate([y.astype(np.uint8)[:, None], planes], axis=1).tobytes()


def _data() -> Path:
    root = bench_data()
    if root is None:
        raise SystemExit("set REGAPPS_BENCH_DATA to the folder holding the real data (../shared/data)")
    return root


# --- child processes -----------------------------------------------------------------------------

def child_train(app: str, probe_file: str, argv: list[str]) -> dict[str, Any]:
    """Run ``regapps APP ...`` in this process through the CLI, keep the model it saves, and
    predict the probe with it here: the training process's own predictions."""
    import importlib

    from regapps.apps.cli import main
    from regapps.shared import modelio

    task = importlib.import_module(f"regapps.apps.{app}.task")
    saved: list[Any] = []
    real_save = modelio.save_model

    def capture(model: Any, path: Path) -> Path:
        saved.append(model)
        return real_save(model, path)

    # image and text save through the toolkit (modelio at call time); ts binds its own name
    for owner in (modelio, task):
        if hasattr(owner, "save_model"):
            owner.save_model = capture
    start = time.perf_counter()
    try:
        main(argv)
    except SystemExit as exc:
        if exc.code:
            raise
    seconds = time.perf_counter() - start
    runs = Path(argv[argv.index("--runs-dir") + 1]) / app
    run_dir = max(runs.iterdir(), key=lambda p: p.stat().st_mtime)
    return {"seconds": seconds, "probe": probe_predictions(app, saved[-1], probe_file, run_dir)}


def probe_predictions(app: str, model: Any, probe_file: str, run_dir: Path) -> list[float]:
    if app == "text":
        from regapps.apps.text.formats import clean_text
        from regapps.apps.text.task import predict_probs

        texts = json.loads(Path(probe_file).read_text(encoding="utf-8"))
        return predict_probs(model, [clean_text(t) for t in texts]).tolist()
    if app == "image":
        from regapps.apps.image.config import ImageConfig
        from regapps.apps.image.task import predict_probs as image_probs
        from regapps.apps.image.task import test_time

        # the run's own test-time augmentation, as `image predict` applies it
        config = ImageConfig.from_saved(json.loads((run_dir / "config.json").read_text()))
        return image_probs(model, np.load(probe_file), **test_time(config.augment)).reshape(-1).tolist()
    shape = [d or 64 for d in model.input_shape]
    probe = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    return np.asarray(model.predict(probe, verbose=0), dtype=np.float64).reshape(-1).tolist()


def child_load(app: str, model_path: str, probe_file: str) -> dict[str, Any]:
    """A fresh process: time ``import tensorflow``, then the load, then predict the probe."""
    start = time.perf_counter()
    import tensorflow  # noqa: F401

    imported = time.perf_counter()
    from regapps.shared.modelio import load_model

    custom: dict[str, Any] | None = None
    if app == "text":
        from regapps.apps.text.model import custom_objects

        custom = custom_objects()
    model = load_model(Path(model_path), custom_objects=custom)
    loaded = time.perf_counter()
    return {"import_s": imported - start, "load_s": loaded - imported,
            "probe": probe_predictions(app, model, probe_file, Path(model_path).parent)}


def run_child(*args: str, timeout: float = 7200) -> dict[str, Any]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"child {args[:2]} failed with exit code {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def regapps(*args: str) -> tuple[dict[str, Any], float]:
    """``regapps ARGS --json`` in a fresh process: (its JSON, wall seconds)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "regapps.apps.cli", *args, "--json"], capture_output=True,
                          text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"regapps {' '.join(args[:3])} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return json.loads(done.stdout), seconds


# --- one app -------------------------------------------------------------------------------------

def bench_app(app: str, work: Path, epochs: int, image_preset: str = "article") -> dict[str, Any]:
    runs = work / "runs"
    work.mkdir(parents=True, exist_ok=True)
    row: dict[str, Any] = {"app": app}
    if app == "text":
        train_dir, test_dir, texts = text_layouts(work)
        probe_file = work / "probe.json"
        probe_file.write_text(json.dumps(texts), encoding="utf-8")
        argv = ["text", "train", "--data-dir", str(train_dir), "--epochs", str(epochs)]
    elif app == "image":
        train_dir, test_dir, images = image_layouts(work)
        probe_file = work / "probe.npy"
        np.save(probe_file, images)
        argv = ["image", "train", "--data-dir", str(train_dir), "--epochs", str(epochs), "--preset", image_preset]
    else:
        probe_file = work / "unused.json"
        probe_file.write_text("[]", encoding="utf-8")
        argv = ["ts", "forecast", "--csv", str(_data() / "stocks" / "AAPL.csv"), "--epochs", str(epochs),
                "--test-size", "250", "--refit-every", "250"]
    trained = run_child("train", app, str(probe_file), *argv, "--runs-dir", str(runs), "--json")
    run_dir = max((runs / app).iterdir(), key=lambda p: p.stat().st_mtime)
    model_path = run_dir / "model.keras"
    fresh = run_child("load", app, str(model_path), str(probe_file))
    diff = np.abs(np.asarray(fresh["probe"]) - np.asarray(trained["probe"]))
    row.update({"train_s": trained["seconds"], "model_MB": model_path.stat().st_size / 2**20,
                "load/import": fresh["load_s"] / fresh["import_s"], "probe_n": len(diff),
                "max_abs_diff": float(diff.max())})
    if app in ("text", "image"):
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
        evaluated, eval_s = regapps(app, "evaluate", str(run_dir), "--data-dir", str(test_dir))
        key = "accuracy"
        row.update({"train_test_acc": metrics["test"][key], "eval_test_acc": evaluated["metrics"]["test"][key],
                    "loss_diff": abs(metrics["test"]["loss"] - evaluated["metrics"]["test"]["loss"]),
                    "evaluate_s": eval_s})
        if app == "text":
            lines = work / "predict.txt"
            lines.write_text("\n".join(texts[:50]), encoding="utf-8")  # cleaned: one line each
            predicted, row["predict_s"] = regapps("text", "predict", str(run_dir), "--file", str(lines))
            got = [p["positive_probability"] for p in predicted["predictions"]]
            row["predict_diff"] = float(np.max(np.abs(np.asarray(got) - np.asarray(trained["probe"][:50]))))
        else:
            folder = work / "predict-images"
            folder.mkdir()
            from PIL import Image

            paths = []
            for i, img in enumerate(images[:20]):
                paths.append(folder / f"{i}.png")
                Image.fromarray(img).save(paths[-1])
            predicted, row["predict_s"] = regapps("image", "predict", str(run_dir), *map(str, paths), "--top", "10")
            got = np.array([[t["probability"] for t in sorted(p["top"], key=lambda t: t["label"])]
                            for p in predicted["predictions"]])
            names = sorted(json.loads((run_dir / "config.json").read_text())["meta"]["class_names"])
            order = [json.loads((run_dir / "config.json").read_text())["meta"]["class_names"].index(n) for n in names]
            want = np.asarray(trained["probe"]).reshape(len(images), -1)[:20][:, order]
            row["predict_diff"] = float(np.max(np.abs(got - want)))
    return row


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, app = sys.argv[2], sys.argv[3]
        out = child_train(app, sys.argv[4], sys.argv[5:]) if kind == "train" else \
            child_load(app, sys.argv[4], sys.argv[5])
        print(json.dumps(out))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", default="text,image,ts")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--image-preset", default="article", help="article, or fast (patch whitening and "
                                                                    "flip + translate test-time averaging)")
    args = parser.parse_args()
    print_machine()
    work = Path(tempfile.mkdtemp(prefix="regapps-roundtrip-"))
    rows = []
    try:
        for app in args.apps.split(","):
            rows.append(bench_app(app, work / app, args.epochs, args.image_preset))
            print(json.dumps(rows[-1]), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print_table(rows, ["app", "train_s", "model_MB", "load/import", "probe_n", "max_abs_diff",
                       "train_test_acc", "eval_test_acc", "loss_diff", "evaluate_s", "predict_diff"])


if __name__ == "__main__":
    main()
