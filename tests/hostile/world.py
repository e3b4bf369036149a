"""The world each hostile case runs in: existing runs of every app (finished, interrupted,
running), a download cache, and a folder of hostile files. Everything is snapshotted before and
after a case, so a case that changes or adds any file fails."""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import pickle
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..helpers import tar_gz_bytes
from ..image.fixtures import cifar_files, write_folder, write_image_tree
from ..text.corpora import make_corpus, write_acl, write_csv
from ..ts.synth import ar1_returns, price_frame

STAMP = "20260101-000000"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x08\x00\x00\x00\x08\x08\x02\x00\x00\x00"


@dataclass(frozen=True)
class World:
    root: Path

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def f(self, name: str) -> str:
        """Path of a hostile input file, as a CLI argument."""
        return str(self.root / "in" / name)

    def run(self, app: str, name: str) -> str:
        """Path of an existing run directory, as a CLI argument."""
        return str(self.runs / app / f"{STAMP}-{name}")


def _mount(*args: str) -> None:
    import subprocess

    import pytest

    try:
        done = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        pytest.skip("needs mount(8)")
    if done.returncode != 0:
        pytest.skip(f"mounting is not permitted here: {done.stderr.strip()[:200]}")


@contextlib.contextmanager
def mounted(folder: Path, kind: str) -> Iterator[Path]:
    """``folder`` with a file system mounted on it for the block: ``read-only`` (the folder
    bind-mounted onto itself read-only, which binds root too, unlike permission bits) or ``full``
    (a 64 KiB tmpfs, too small for a run). Skips where mounting is not permitted (not root)."""
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    try:
        if kind == "read-only":
            _mount("--bind", str(folder), str(folder))
            _mount("-o", "remount,ro,bind", str(folder))
        else:
            _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder))
        yield folder
    finally:
        while subprocess.run(["umount", str(folder)], capture_output=True).returncode == 0:
            pass  # a bind mount whose remount failed is unmounted too


def snapshot(root: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file (and ``<dir>`` for every folder) under ``root``."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        out[rel] = "<dir>" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


# --- saved models (built once per session: Keras saves cost a second) --------------------------

@lru_cache(maxsize=None)
def model_bytes(kind: str) -> bytes:
    """``plain``: the untrained article CNN for 8x8x1 digits; ``lambda``: a model holding a
    Python lambda (code that safe_mode must refuse to deserialize)."""
    import tempfile

    import keras
    from regapps.apps.image.model import build_model
    from regapps.shared.config import RegularizationConfig

    if kind == "plain":
        model = build_model("article", (8, 8, 1), 10, RegularizationConfig())
    else:
        inputs = keras.Input((8, 8, 1))
        x = keras.layers.Lambda(lambda t: t * 2.0, name="code")(inputs)
        outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))
        model = keras.Model(inputs, outputs)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.keras"
        model.save(path)
        return path.read_bytes()


@lru_cache(maxsize=None)
def digits_sha() -> str:
    from regapps.apps.image.data import load_digits

    return load_digits().checksum()


# --- runs ---------------------------------------------------------------------------------------

def _run(runs: Path, app: str, name: str, command: str, status: str, config: dict | None = None,
         files: dict[str, bytes] | None = None) -> Path:
    path = runs / app / f"{STAMP}-{name}"
    path.mkdir(parents=True)
    (path / "status.json").write_text(json.dumps({"app": app, "command": command, "status": status}))
    if config is not None:
        (path / "config.json").write_text(json.dumps(config))
    for rel, data in (files or {}).items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)
    return path


def _image_config(sha: str) -> dict:
    from regapps.apps.image.config import ImageConfig
    from regapps.shared.config import build_config

    cfg = build_config(ImageConfig, flags={"data.dataset": "digits", "training.epochs": 2}).to_dict()
    return {**cfg, "meta": {"class_names": [str(i) for i in range(10)], "input_shape": [8, 8, 1],
                            "data_sha256": sha}}


def _write_runs(runs: Path) -> None:
    plain = model_bytes("plain")
    config = _image_config(digits_sha())
    checkpoint = {"checkpoints/last.keras": plain, "checkpoints/best.keras": plain,
                  "checkpoints/state.json": json.dumps({"epoch": 1, "monitor": "val_loss", "best": 2.0,
                                                        "best_epoch": 1, "wait": 0}).encode(),
                  "history.csv": b"epoch,loss,val_loss,seconds\n1,2.1,2.0,0.1\n"}
    _run(runs, "image", "done", "train", "completed", config,
         {"model.keras": plain, "metrics.json": b"{}", "report.md": b"# image train\n"})
    _run(runs, "image", "lambda", "train", "completed", config, {"model.keras": model_bytes("lambda")})
    _run(runs, "image", "truncmodel", "train", "completed", config, {"model.keras": plain[: len(plain) // 2]})
    _run(runs, "image", "cut", "train", "interrupted", config, {**checkpoint, "model.keras": plain})
    _run(runs, "image", "running", "train", "running", config)
    _run(runs, "image", "changed", "train", "interrupted", _image_config("0" * 64), checkpoint)
    _run(runs, "image", "badckpt", "train", "interrupted", config,
         {**checkpoint, "checkpoints/last.keras": plain[:2000]})
    _run(runs, "image", "cvdone", "cv", "completed", None,
         {"search.json": b'{"app": "image"}', "cv_results.csv": b"candidate\n0\n"})
    text_meta = {"meta": {"class_names": ["negative", "positive"]}}
    _run(runs, "text", "done", "train", "completed", text_meta, {"model.keras": plain})
    _run(runs, "text", "cut", "train", "interrupted", text_meta)
    _run(runs, "text", "lambda", "train", "completed", text_meta, {"model.keras": model_bytes("lambda")})
    _run(runs, "ts", "done", "backtest", "completed", {"meta": {}}, {"metrics.json": b"{}"})
    # saved by another version, or edited: keys and shapes this version does not take
    older = json.loads(json.dumps(config))
    older["training"]["warmup"] = 3
    _run(runs, "image", "oldkeys", "train", "interrupted", older, checkpoint)
    reshaped = json.loads(json.dumps(config))
    reshaped["model"]["preset"] = ["article"]
    _run(runs, "image", "oldshape", "train", "interrupted", reshaped, checkpoint)
    _run(runs, "image", "listcfg", "train", "interrupted", None, {"config.json": b"[1, 2]\n"})
    _run(runs, "image", "metalist", "train", "interrupted", {**config, "meta": [1]}, checkpoint)
    _run(runs, "image", "donelist", "train", "completed", None, {"config.json": b"[1, 2]\n", "model.keras": plain})
    _run(runs, "text", "donelist", "train", "completed", None, {"config.json": b"[1, 2]\n", "model.keras": plain})
    base = {k: v for k, v in config.items() if k != "meta"}
    plan = {"space": {"regularization.l2": [0, 0.001]}, "candidates": [{"regularization.l2": 0},
            {"regularization.l2": 0.001}], "search": "grid", "folds": 2, "seeds": [42], "max_epochs": 2, "eta": 3}
    _run(runs, "image", "cvoldplan", "cv", "interrupted", None, {"search.json": json.dumps(
        {"app": "image", "plan": {**plan, "space": ["regularization.l2"]}, "base": base}).encode()})
    _run(runs, "image", "cvnotraining", "cv", "interrupted", None, {"search.json": json.dumps(
        {"app": "image", "plan": plan, "base": {k: v for k, v in base.items() if k != "training"}}).encode()})


# --- hostile input files ------------------------------------------------------------------------

_tar_bytes = tar_gz_bytes


class _Evil:
    def __reduce__(self) -> tuple:
        return (os.system, ("touch pwned",))


def _write_inputs(folder: Path) -> None:
    folder.mkdir()

    def w(name: str, data: bytes) -> None:
        (folder / name).write_bytes(data)

    binary = _tar_bytes(cifar_files("binary"))
    w("empty.tar.gz", b"")
    w("truncated-cifar.tar.gz", binary[: len(binary) // 2])
    w("garbage.tar.gz", bytes(range(256)) * 8)
    w("table.csv", b"text,label\ngood film,1\n")
    w("picture.png", PNG)
    from PIL import Image

    Image.new("RGB", (8, 8), (200, 30, 30)).save(folder / "photo.png")  # readable: the model is what fails
    w("empty.png", b"")
    w("latin1.csv", "text,label\ncaf\xe9 tr\xe8s bon,1\n".encode("latin-1"))
    python = cifar_files("python")
    python["cifar-10-batches-py/data_batch_1"] = pickle.dumps({b"data": _Evil(), b"labels": [1]})
    w("evil-cifar-python.tar.gz", _tar_bytes(python))
    python = cifar_files("python")
    python["cifar-10-batches-py/data_batch_3"] = python["cifar-10-batches-py/data_batch_3"][:100]
    w("cut-pickle-cifar-python.tar.gz", _tar_bytes(python))
    w("no-batch5.tar.gz", _tar_bytes(cifar_files("binary", skip=("data_batch_5.bin",))))
    short = cifar_files("binary")
    short["cifar-10-batches-bin/data_batch_2.bin"] = short["cifar-10-batches-bin/data_batch_2.bin"][:5000]
    write_folder(folder / "cutbatch", short)
    write_image_tree(folder / "imgs" / "train", {"cat": 2, "dog": 2})
    (folder / "imgs" / "train" / "dog" / "broken.png").write_bytes(PNG + b"\x00" * 20)
    write_image_tree(folder / "imgs0" / "train", {"cat": 2, "dog": 2})
    write_image_tree(folder / "onecls" / "train", {"cat": 6})
    write_image_tree(folder / "splitaway" / "train", {"cat": 6, "dog": 6, "bird": 1})  # bird: validation
    (folder / "imgs0" / "train" / "cat" / "zero.png").write_bytes(b"")
    # config files
    w("cut.yaml", b"training:\n  epochs: [3, 4\n")
    w("bad.toml", b"[training]\nepochs = = 3\n")
    w("cut.json", b'{"training": {"epochs": 3')
    w("list.yaml", b"- training\n- epochs\n")
    w("latin1.yaml", "name: caf\xe9\n".encode("latin-1"))
    w("empty.json", b"")
    w("emptyspace.yaml", b"search:\n  l2: []\n")
    w("deep.json", b"[" * 50_000)
    # config values of the wrong shape
    w("preset-list.yaml", b"model:\n  preset: [fast]\n")
    w("epochs-mapping.yaml", b"training:\n  epochs: {a: 1}\n")
    w("section-scalar.toml", b"training = 5\n")
    w("epochs-true.json", b'{"training": {"epochs": true}}')
    w("sections-list.yaml", b"training: [1, 2]\n")
    w("search-list.yaml", b"search: [l2, dropout]\n")
    w("search-scalar.yaml", b"search:\n  l2: 0.001\n")
    w("search-mapping.yaml", b"search:\n  l2: {low: 0, hi: 1}\n")
    w("search-log-zero.yaml", b"search:\n  learning_rate: {low: 0, high: 0.01, log: true}\n")
    w("search-null.yaml", b"search:\n  l2: [0, null]\n")
    w("search-twice.yaml", b"search:\n  l2: [0]\n  regularization.l2: [1]\n")
    # text
    w("header-only.csv", b"text,label\n")
    w("quote.csv", b'text,label\n"a review that never ends,1\n')
    w("labels.csv", b"text,label\ngood,1\nbad,maybe\n")
    w("empty.csv", b"")
    acl = write_acl(folder / "acl-src", {"train": 8, "test": 4})
    with tarfile.open(folder / "full-acl.tar.gz", "w:gz") as archive:
        archive.add(acl, arcname="aclImdb")
    whole = (folder / "full-acl.tar.gz").read_bytes()
    w("aclImdb_v1.tar.gz", whole[: len(whole) // 2])
    (folder / "full-acl.tar.gz").unlink()
    (acl / "train" / "pos" / "0_8.txt").write_bytes("tr\xe8s bien".encode("latin-1"))
    one = write_acl(folder / "oneclass", {"train": 6})
    for review in (one / "train" / "pos").iterdir():
        review.unlink()
    w("latin1.txt", "tr\xe8s bien\n".encode("latin-1"))
    (folder / "nothing").mkdir()
    w("empty-acl.tar.gz", b"")
    for name in ("cat", "dog"):
        (folder / "noimages" / "train" / name).mkdir(parents=True)
        (folder / "noimages" / "train" / name / "notes.txt").write_text("not an image")
    reviews = [(t, "pos" if y else "neg") for t, y in make_corpus(40)]
    write_csv(folder / "reviews.csv", reviews)
    # time series
    long = price_frame(ar1_returns(900, 0.1))
    long.to_csv(folder / "long.csv", index=False)
    price_frame(ar1_returns(30, 0.1)).to_csv(folder / "short.csv", index=False)
    text = long.to_csv(index=False)
    w("cut-series.csv", text[: len(text) // 2 - 7].encode())
    w("words.csv", text.replace(long["Close"].iloc[5], "n/a-price", 1).encode())
    w("baddate.csv", text.replace(long["Date"].iloc[3], "2000-02-30", 1).encode())
    (folder / "adir.csv").mkdir()
    rows = text.splitlines()[1:]
    w("twice.csv", "\n".join(["Date,Close,Close ", *[f"{row},1" for row in rows]]).encode() + b"\n")
    w("cut.csv.gz", gzip.compress(text.encode())[:-30])
    w("blocker", b"a regular file, not a folder\n")


def build_world(root: Path) -> World:
    world = World(root)
    _write_runs(world.runs)
    (world.cache / "yfinance").mkdir(parents=True)
    (world.cache / "yfinance" / "AAPL_1d.csv").write_text("Date,Close\n2020-01-02,1\n")
    (world.cache / "movieReviewSnippets_GroundTruth.txt").write_text("1\t2.0\tgood\n")
    _write_inputs(world.root / "in")
    return world
