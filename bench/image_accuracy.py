"""Accuracy of an image preset on real CIFAR-10, side by side with the article's code path.

Loads the 50,000 training images from ``$REGAPPS_BENCH_DATA/cifar-10-binary-train.tar.gz``,
holds out a stratified 10,000 as a test part that nothing trains or selects on, then trains
  * regapps: ``regapps image train``'s path (20% validation, early stopping, best weights);
  * article: the article's code (float32 arrays, ``model.fit(validation_split=0.2)``, 50
    epochs, last weights), unless ``--no-baseline``;
each in its own process, and prints held-out accuracy, training wall time and peak memory.

    REGAPPS_BENCH_DATA=../shared/data python bench/image_accuracy.py [--preset article]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_data, peak_rss_mib, print_table, run_child  # noqa: E402

HOLDOUT = 10_000
HOLDOUT_SEED = 2026


def held_out_split(holdout: int = HOLDOUT):  # type: ignore[no-untyped-def]
    from regapps.apps.image.data import from_local, load_local
    from sklearn.model_selection import train_test_split

    root = bench_data()
    if root is None:
        raise SystemExit("set REGAPPS_BENCH_DATA to the folder holding cifar-10-binary-train.tar.gz")
    data = from_local(load_local(root / "cifar-10-binary-train.tar.gz"))
    x_tr, x_te, y_tr, y_te = train_test_split(data.x_train, data.y_train, test_size=holdout,
                                              stratify=data.y_train, random_state=HOLDOUT_SEED)
    data.x_train, data.y_train, data.x_test, data.y_test = x_tr, y_tr, x_te, y_te
    data.notes = []  # the held-out part is the test split here
    return data


def child(mode: str, preset: str, sets: list[str]) -> None:
    from regapps.shared.environment import import_tensorflow

    import_tensorflow()
    from regapps.apps.image.config import ImageConfig
    from regapps.apps.image.data import split_indices
    from regapps.apps.image.task import fit_image_model, score
    from regapps.shared.config import build_config

    data = held_out_split()
    cfg = build_config(ImageConfig, flags={"model.preset": preset}, sets=sets)
    start = time.perf_counter()
    if mode == "regapps":
        t = cfg.training
        train_idx, val_idx = split_indices(data.y_train, t.validation_split, t.seed)
        result = fit_image_model(cfg, data, train_idx, val_idx, verbose=0)
        model, val_acc, epochs = result["model"], result["validation"]["accuracy"], result["fit"].epochs_run
    else:
        model, val_acc, epochs = _article(data, cfg)
    seconds = time.perf_counter() - start
    test, _ = score(model, data.x_test, data.y_test, data.class_names)
    print(json.dumps({"mode": mode, "preset": preset if mode == "regapps" else "article code",
                      "epochs": epochs, "val_accuracy": val_acc, "heldout_accuracy": test["accuracy"],
                      "train_s": seconds, "peak_rss_mib": peak_rss_mib()}))


def _article(data, cfg):  # type: ignore[no-untyped-def]
    import keras
    from regapps.apps.image.model import build_model

    keras.utils.set_random_seed(cfg.training.seed)
    x = data.x_train.astype("float32") / 255.0
    model = build_model("article", data.input_shape, 10, cfg.regularization)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False)
    history = model.fit(x, data.y_train, batch_size=64, epochs=50, validation_split=0.2, verbose=0)
    return model, float(history.history["val_accuracy"][-1]), 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="article")
    parser.add_argument("--set", dest="sets", action="append", default=[])
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--mode", choices=["article", "regapps"], default="regapps")
    args = parser.parse_args()
    if args.child:
        child(args.mode, args.preset, args.sets)
        return
    extra = [a for s in args.sets for a in ("--set", s)]
    rows = [run_child(__file__, "--mode", "regapps", "--preset", args.preset, *extra)]
    if args.baseline:
        rows.append(run_child(__file__, "--mode", "article"))
    print_table(rows, ["mode", "preset", "epochs", "val_accuracy", "heldout_accuracy", "train_s",
                       "peak_rss_mib"])
    if len(rows) == 2:
        print(f"\nheld-out accuracy regapps - article: {rows[0]['heldout_accuracy'] - rows[1]['heldout_accuracy']:+.4f}; "
              f"peak memory ratio: {rows[0]['peak_rss_mib'] / rows[1]['peak_rss_mib']:.2f} (target <= 0.6)")


if __name__ == "__main__":
    main()
