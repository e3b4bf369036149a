"""`regapps image evaluate` takes a labelled set in every usual layout, in a fresh process.

One tiny model is trained once (on CIFAR-10 through tensorflow-datasets, prepared offline from
generated batch files); every layout is then evaluated by one new interpreter, and each count and
accuracy is checked against this process's own predictions of the same saved model."""
from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from regapps.apps.image.formats import CIFAR10_CLASSES, load_image

from ..helpers import assert_one_error, main_json
from .fixtures import binary_batch, python_batch, write_archive, write_folder
from ..fresh import Result, run_fresh
from .pngs import png_bytes

pytestmark = pytest.mark.slow  # trains a model (once for the module)

PALETTE = np.array([[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
                    [145, 30, 180], [70, 240, 240], [240, 50, 230], [128, 128, 0], [0, 0, 128]])
SUBSET = ["truck", "cat", "airplane", "ship", "frog"]  # folder layouts: some classes, not in model order
META_TXT = "\n".join(CIFAR10_CLASSES).encode()
META_PY = pickle.dumps({b"label_names": [n.encode() for n in CIFAR10_CLASSES], b"num_vis": 3072}, protocol=2)


def colour_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """32x32 RGB images, one colour per class plus noise: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % 10).astype(np.int64)
    noise = rng.integers(-40, 41, (n, 32, 32, 3))
    return np.clip(PALETTE[y][:, None, None, :] + noise, 0, 255).astype(np.uint8), y


@dataclass
class Layout:
    arg: str  # what --data-dir gets ("" for none: the run's own test split)
    x: np.ndarray  # the images evaluate must score, as the model sees them
    labels: list[str]  # their class names
    part: str = "test"


def _png_tree(root: Path, x: np.ndarray, y: np.ndarray, classes: list[str], size: tuple[int, int] | None = None) -> None:
    from PIL import Image

    for i, (img, label) in enumerate(zip(x, y)):
        name = CIFAR10_CLASSES[label]
        if name in classes:
            (root / name).mkdir(parents=True, exist_ok=True)
            pil = Image.fromarray(img)
            (pil.resize(size, Image.Resampling.NEAREST) if size else pil).save(root / name / f"{i}.png")


def _subset(x: np.ndarray, y: np.ndarray, classes: list[str]) -> tuple[np.ndarray, list[str]]:
    keep = [i for i, label in enumerate(y) if CIFAR10_CLASSES[label] in classes]
    # read_class_tree's order: class folders sorted by name, files sorted by name ("10.png" < "2.png")
    keep.sort(key=lambda i: (CIFAR10_CLASSES[y[i]], f"{i}.png"))
    return x[keep], [CIFAR10_CLASSES[y[i]] for i in keep]


def _layouts(root: Path, x: np.ndarray, y: np.ndarray, train: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, Layout]:
    names = [CIFAR10_CLASSES[v] for v in y]
    sub_x, sub_names = _subset(x, y, SUBSET)
    out: dict[str, Layout] = {}

    _png_tree(root / "test-folder" / "test", x, y, SUBSET)
    out["test-folder"] = Layout(str(root / "test-folder"), sub_x, sub_names)

    tx, ty = train[0]  # train/ knows two classes; test/ has others the model knows
    _png_tree(root / "train-and-test" / "train", tx, ty, ["cat", "dog"])
    _png_tree(root / "train-and-test" / "test", x, y, SUBSET)
    out["train-and-test"] = Layout(str(root / "train-and-test"), sub_x, sub_names)

    _png_tree(root / "train-folder" / "train", x, y, SUBSET)
    out["train-folder"] = Layout(str(root / "train-folder"), sub_x, sub_names, part="all")

    flat = root / "class-folders"  # another size, plus what notebooks, macOS and people leave around
    _png_tree(flat, x, y, SUBSET, size=(40, 48))
    _png_tree(flat / ".ipynb_checkpoints", x[:6], y[:6], CIFAR10_CLASSES)
    _png_tree(flat / "cat" / ".ipynb_checkpoints", x[:6], y[:6], CIFAR10_CLASSES)
    (flat / "cat" / "._0.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble resource fork")
    (flat / "README.txt").write_text("CIFAR-like test images")
    (flat / "ship" / "labels.csv").write_text("file,label\n")
    files = sorted(p for d in sorted(flat.iterdir()) if d.is_dir() and not d.name.startswith(".")
                   for p in sorted(d.glob("*.png")) if not p.name.startswith("."))
    out["class-folders"] = Layout(str(flat), np.stack([load_image(p, (32, 32), 3) for p in files]),
                                  [p.parent.name for p in files], part="all")

    bin_test = {"cifar-10-batches-bin/test_batch.bin": binary_batch(x, y),
                "cifar-10-batches-bin/batches.meta.txt": META_TXT}
    bin_train = {f"cifar-10-batches-bin/data_batch_{i + 1}.bin": binary_batch(*b) for i, b in enumerate(train)}
    py_test = {"cifar-10-batches-py/test_batch": python_batch(x, y), "cifar-10-batches-py/batches.meta": META_PY}
    write_folder(root / "bin-folder", bin_test)
    out["binary-folder-test-only"] = Layout(str(root / "bin-folder"), x, names)
    out["binary-batches-dir-test-only"] = Layout(str(root / "bin-folder" / "cifar-10-batches-bin"), x, names)
    write_archive(root / "cifar-10-binary.tar.gz", bin_test)
    out["binary-archive-test-only"] = Layout(str(root / "cifar-10-binary.tar.gz"), x, names)
    write_archive(root / "full-binary.tar.gz", {**bin_train, **bin_test})
    out["binary-archive-with-training"] = Layout(str(root / "full-binary.tar.gz"), x, names)
    write_folder(root / "py-folder", py_test)
    out["python-folder-test-only"] = Layout(str(root / "py-folder"), x, names)
    (root / "py-archive").mkdir()
    write_archive(root / "py-archive" / "cifar-10-python.tar.gz",
                  {"cifar-10-batches-py/data_batch_1": python_batch(*train[0]), **py_test})
    out["python-archive-one-training-batch"] = Layout(str(root / "py-archive"), x, names)
    write_archive(root / "py-test.tar.gz", py_test)
    out["python-archive-test-only"] = Layout(str(root / "py-test.tar.gz"), x, names)
    return out


def _bad(root: Path) -> dict[str, tuple[str, ...]]:
    """Bad labelled sets -> fragments of the one error line."""
    from PIL import Image

    (root / "empty").mkdir(parents=True)
    (root / "no-images").mkdir()
    (root / "no-images" / "notes.txt").write_text("nothing to see")
    (root / "no-images" / "table.csv").write_text("a,b\n1,2\n")
    (root / "no-images-in-classes" / "test" / "cat").mkdir(parents=True)
    (root / "no-images-in-classes" / "test" / "cat" / "notes.txt").write_text("x")
    (root / "no-images-in-classes" / "test" / "dog" / ".ipynb_checkpoints").mkdir(parents=True)
    Image.new("RGB", (32, 32)).save(root / "no-images-in-classes" / "test" / "dog" / ".ipynb_checkpoints" / "a.png")
    for cls in ("cat", "unicorn"):
        (root / "unknown-class" / "test" / cls).mkdir(parents=True)
        Image.new("RGB", (32, 32)).save(root / "unknown-class" / "test" / cls / "0.png")
    (root / "bomb" / "test" / "cat").mkdir(parents=True)
    Image.new("RGB", (32, 32)).save(root / "bomb" / "test" / "cat" / "0.png")
    (root / "bomb" / "test" / "cat" / "huge.png").write_bytes(png_bytes(20000, 20000, 8, 2, None))
    write_folder(root / "meta-only", {"cifar-10-batches-bin/batches.meta.txt": META_TXT})
    return {"empty": ("empty", "is empty"),
            "no-images": ("no-images", "neither a CIFAR-10 archive nor class folders"),
            "no-images-in-classes": ("no-images-in-classes", "no images"),
            "unknown-class": ("unknown-class", "classes the model does not know: unicorn"),
            "bomb": ("huge.png", "decompression-bomb"),
            "meta-only": ("cifar-10-batches-bin", "no CIFAR-10 batch files")}


def _prepare_tfds(source: Path, cache: Path) -> None:
    """CIFAR-10 prepared by tensorflow-datasets' own builder from generated batch files (the
    download is replaced by the folder holding cifar-10-batches-bin/)."""
    from unittest import mock

    import tensorflow_datasets as tfds

    with mock.patch.object(tfds.download.DownloadManager, "download_and_extract", lambda self, url: str(source)):
        tfds.builder("cifar10", data_dir=str(cache / "tensorflow_datasets")).download_and_prepare()


@dataclass
class World:
    run_dir: Path
    layouts: dict[str, Layout]
    results: dict[str, Result]
    bad: dict[str, tuple[str, ...]]
    root: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    import tensorflow_datasets as tfds

    root = tmp_path_factory.mktemp("layouts")
    train = [colour_images(24, seed) for seed in range(5)]
    x, y = colour_images(40, 99)
    source = write_folder(root / "download", {
        **{f"cifar-10-batches-bin/data_batch_{i + 1}.bin": binary_batch(*b) for i, b in enumerate(train)},
        "cifar-10-batches-bin/test_batch.bin": binary_batch(x, y), "cifar-10-batches-bin/batches.meta.txt": META_TXT})
    cache = root / "cache"
    _prepare_tfds(source, cache)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REGAPPS_DATA", str(cache))
        trained = main_json("image", "train", "--dataset", "cifar10", "--epochs", "3", "--batch-size", "16",
                            "--learning-rate", "0.003", "--seed", "0", "--runs-dir", str(root / "runs"), "--json")
    prepared = cache / "tensorflow_datasets" / "cifar10" / "3.0.2"
    tx, ty = tfds.as_numpy(tfds.load("cifar10", split="test", data_dir=str(cache / "tensorflow_datasets"),
                                     batch_size=-1, as_supervised=True, download=False))
    for shard in prepared.glob("cifar10-train.tfrecord*"):
        shard.unlink()  # evaluate must not need the training split

    layouts = _layouts(root / "in", x, y, train)
    layouts["tfds-test-split"] = Layout("", tx, [CIFAR10_CLASSES[v] for v in ty])
    bad = _bad(root / "bad")
    run_dir = trained["run_dir"]
    argvs = [["image", "evaluate", run_dir, *(["--data-dir", lay.arg] if lay.arg else []), "--json"]
             for lay in layouts.values()]
    argvs += [["image", "evaluate", run_dir, "--data-dir", str(root / "bad" / name)] for name in bad]
    results = run_fresh(argvs, cache=cache, cwd=root)
    return World(Path(run_dir), layouts, dict(zip([*layouts, *bad], results)), bad, root)


@pytest.fixture(scope="module")
def model(world: World) -> Any:
    import keras

    return keras.saving.load_model(world.run_dir / "model.keras")


def _accuracy(model: Any, layout: Layout) -> tuple[float, np.ndarray]:
    pred = model.predict(layout.x.astype(np.float32) / 255.0, verbose=0).argmax(axis=1)
    truth = np.array([CIFAR10_CLASSES.index(n) for n in layout.labels])
    return float((pred == truth).mean()), pred


def test_the_model_is_not_trivial(world: World, model: Any) -> None:
    accuracy, pred = _accuracy(model, world.layouts["binary-folder-test-only"])
    assert len(set(pred.tolist())) >= 3 and accuracy > 0.3  # so the accuracies below say something


@pytest.mark.parametrize("name", ["test-folder", "train-and-test", "train-folder", "class-folders",
                                  "binary-folder-test-only", "binary-batches-dir-test-only",
                                  "binary-archive-test-only", "binary-archive-with-training",
                                  "python-folder-test-only", "python-archive-one-training-batch",
                                  "python-archive-test-only", "tfds-test-split"])
def test_evaluate_layout_in_a_fresh_process(world: World, model: Any, name: str) -> None:
    layout = world.layouts[name]
    out = world.results[name].json()
    metrics = out["metrics"]["test"]
    accuracy, _ = _accuracy(model, layout)
    assert metrics["n"] == len(layout.labels)
    assert metrics["accuracy"] == pytest.approx(accuracy, abs=1e-12)
    assert out["part"] == layout.part
    saved = json.loads((Path(out["output_dir"]) / "metrics.json").read_text())
    assert saved["test"] == metrics and saved["part"] == layout.part
    seen = {n for n, v in metrics["per_class_accuracy"].items() if v is not None}
    assert seen == set(layout.labels)  # each image counted under its own class name


@pytest.mark.parametrize("name", ["empty", "no-images", "no-images-in-classes", "unknown-class", "bomb",
                                  "meta-only"])
def test_bad_labelled_set_is_one_error_line(world: World, name: str) -> None:
    assert_one_error(world.results[name], *world.bad[name])


def test_train_refuses_a_test_only_set(world: World, cli: Any) -> None:
    runs = str(world.root / "refused-runs")
    assert_one_error(cli("image", "train", "--data-dir", world.layouts["test-folder"].arg, "--epochs", "1",
                         "--runs-dir", runs),
                     "test-folder holds only a test/ folder; training needs", "train/<class>/")
    for layout in ("binary-archive-test-only", "python-folder-test-only"):
        assert_one_error(cli("image", "train", "--data-dir", world.layouts[layout].arg, "--epochs", "1",
                             "--runs-dir", runs),
                         "holds only the CIFAR-10 test batch", "data_batch_1")
    assert not Path(runs).exists()
