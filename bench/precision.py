"""Training throughput of the image CNN by --precision: float32 against mixed_bfloat16 (and
mixed_float16 where a GPU is visible), the same data, model, seed and epochs, each run in its
own process, runs alternating. Prints steady-state samples/s (first epoch left out: tracing)
and the validation accuracy reached, so a speed-up that costs accuracy shows.

    REGAPPS_BENCH_DATA=../shared/data python bench/precision.py [--n 10000] [--epochs 3] [--rounds 2]

With REGAPPS_BENCH_DATA it trains on the first --n CIFAR-10 training images (32x32x3); without,
on scikit-learn's 8x8 digits (a smoke run: too small to say anything about speed).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_data, print_table, run_child  # noqa: E402


def child(precision: str, preset: str, n: int, epochs: int) -> None:
    from regapps.shared.environment import import_tensorflow

    import_tensorflow()
    from regapps.apps.image.config import ImageConfig
    from regapps.apps.image.data import ImageData, from_local, load_digits, load_local, split_indices
    from regapps.apps.image.task import fit_image_model

    root = bench_data()
    if root is not None:
        full = from_local(load_local(root / "cifar-10-binary-train.tar.gz"))
        data = ImageData(full.x_train[:n], full.y_train[:n], None, None, full.class_names,
                         f"CIFAR-10 train, first {n}")
    else:
        data = load_digits()
    config = ImageConfig.model_validate({
        "model": {"preset": preset},
        "training": {"epochs": epochs, "precision": precision, "early_stopping": False, "seed": 0}})
    train_idx, val_idx = split_indices(data.y_train, 0.2, 0)
    result = fit_image_model(config, data, train_idx, val_idx)
    times = [row["seconds"] for row in result["fit"].rows][1:]
    print(json.dumps({"precision": precision, "data": data.source, "n_train": int(len(train_idx)),
                      "epoch_times": times, "val_accuracy": result["validation"]["accuracy"],
                      "dtypes": sorted({str(w.dtype) for w in result["model"].weights})}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--preset", default="article")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--precision")
    args = parser.parse_args()
    if args.child:
        child(args.precision, args.preset, args.n, args.epochs)
        return
    from regapps.shared.environment import import_tensorflow

    import_tensorflow()
    import tensorflow as tf

    precisions = ["float32", "mixed_bfloat16"] + (["mixed_float16"] if tf.config.list_physical_devices("GPU") else [])
    results: dict[str, list[dict]] = {p: [] for p in precisions}
    for _ in range(args.rounds):
        for precision in precisions:
            results[precision].append(run_child(__file__, "--precision", precision, "--preset", args.preset,
                                                "--n", str(args.n), "--epochs", str(args.epochs)))
    rows = []
    for precision, runs in results.items():
        times = [t for r in runs for t in r["epoch_times"]]
        n = runs[0]["n_train"]
        rows.append({"precision": precision, "data": runs[0]["data"], "epochs timed": len(times),
                     "median samples/s": n / statistics.median(times), "best samples/s": n / min(times),
                     "val accuracy": statistics.fmean(r["val_accuracy"] for r in runs)})
    print_table(rows, ["precision", "data", "epochs timed", "median samples/s", "best samples/s", "val accuracy"])
    base = rows[0]
    for row in rows[1:]:
        print(f"{row['precision']}/float32 throughput: median "
              f"{row['median samples/s'] / base['median samples/s']:.2f}, best "
              f"{row['best samples/s'] / base['best samples/s']:.2f}")


if __name__ == "__main__":
    main()
