"""Where an epoch of the fast image preset goes, on real CIFAR-10: the input pipeline alone, an
epoch through the Trainer (real pipeline, validation, callbacks), and the same compiled model on
batches made beforehand (no pipeline work during the epoch). One process, one model; the ratio
Trainer epoch / pre-made epoch is the cost of everything but the training step.

    REGAPPS_BENCH_DATA=../shared/data python bench/epoch_time.py [--width 16] [--precision auto]
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import print_machine, print_table  # noqa: E402
from image_accuracy import held_out_split  # noqa: E402


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--epochs", type=int, default=3, help="Trainer epochs (the first compiles)")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first one compiles")
    print_machine()
    from regapps.shared.environment import import_tensorflow

    import_tensorflow()
    import tensorflow as tf
    from regapps.apps.image.config import ImageConfig
    from regapps.apps.image.task import ImageFit
    from regapps.shared.config import build_config

    data = held_out_split(5_000)
    config = build_config(ImageConfig, flags={"model.preset": "fast", "model.width": args.width,
                                              "training.precision": args.precision,
                                              "training.epochs": args.epochs})
    order = np.random.default_rng(0).permutation(len(data.x_train))
    n_val = round(config.training.validation_split * len(order))
    job = ImageFit(config, data, np.sort(order[n_val:]), np.sort(order[:n_val]))
    trainer, model = job.trainer, job.model
    rows = [{"what": "input pipeline alone", "seconds": timed(lambda: [None for _ in trainer.train_data])}]
    for epoch in range(1, args.epochs + 1):
        rows.append({"what": f"Trainer epoch {epoch}" + (" (compiles)" if epoch == 1 else ""),
                     "seconds": timed(lambda e=epoch: trainer.train_until(e))})  # type: ignore[misc]
    batches = list(trainer.train_data)
    made = tf.data.Dataset.from_tensor_slices((tf.concat([b[0] for b in batches], 0),
                                               tf.concat([b[1] for b in batches], 0)))
    made = made.batch(config.training.batch_size).prefetch(2)
    for label in ("pre-made batches, model.fit (traces)", "pre-made batches, model.fit again"):
        rows.append({"what": label, "seconds": timed(lambda: model.fit(made, epochs=1, verbose=0))})
    rows.append({"what": "validation pass", "seconds": timed(lambda: model.evaluate(trainer.validation_data,
                                                                                    verbose=0))})
    trainer_epoch = min(r["seconds"] for r in rows[2:1 + args.epochs])
    bare = rows[-2]["seconds"]
    for row in rows:
        row["seconds"] = round(row["seconds"], 2)
    print(f"\nwidth {args.width}, precision {args.precision}, {len(batches)} steps of "
          f"{config.training.batch_size}\n")
    print_table(rows, ["what", "seconds"])
    print(f"\nTrainer epoch / pre-made epoch: {trainer_epoch / bare:.2f}")


if __name__ == "__main__":
    main()
