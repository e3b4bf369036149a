"""Training-step time of the fast image preset's network by batch-norm kernel and precision:
Keras' own BatchNormalization against the fused one (shared/layers.py), in float32 and
mixed_bfloat16. All four models live in one process and take turns, a few steps each, for
several rounds; each one's best round is reported (this VM's CPU speed drifts, and turns
spread that drift over all four). Random data: this measures speed only.

``--widths 8,12,16,24`` instead times the fused float32 network at each width, with and without
XLA (``jit_compile``), the same way: what the fast preset's time-budget plan chooses between, and
whether XLA pays on this CPU. The machine's CPU flags are printed first.

    python bench/step_time.py [--rounds 6] [--steps 4] [--batch 256] [--width 16]
    python bench/step_time.py --widths 8,12,16,24
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import print_machine, print_table  # noqa: E402


def build(fused: bool, precision: str, batch: int, width: int, jit: bool = False) -> Any:
    import keras
    from regapps.apps.image.config import ImageConfig
    from regapps.apps.image.model import build_model
    from regapps.shared import layers
    from regapps.shared.config import build_config

    config = build_config(ImageConfig, flags={"model.preset": "fast"})
    chosen = layers.FusedBatchNormalization
    if not fused:  # the blocks look the class up when they build, so this swaps the kernel
        layers.FusedBatchNormalization = keras.layers.BatchNormalization  # type: ignore[misc]
    keras.config.set_dtype_policy(precision)
    try:
        model = build_model("fast", (32, 32, 3), 10, config.regularization, width=width)
    finally:
        keras.config.set_dtype_policy("float32")
        layers.FusedBatchNormalization = chosen  # type: ignore[misc]
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
                  loss="sparse_categorical_crossentropy", jit_compile=jit)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--widths", help="comma list: time these widths, XLA off and on, instead")
    args = parser.parse_args()
    print_machine()

    from regapps.shared.environment import import_tensorflow

    import_tensorflow()
    import tensorflow as tf

    x = tf.random.uniform((args.batch, 32, 32, 3))
    y = tf.random.uniform((args.batch,), 0, 10, dtype=tf.int32)
    if args.widths:
        variants = {(int(w), jit): build(True, "float32", args.batch, int(w), jit)
                    for w in args.widths.split(",") for jit in (False, True)}
    else:
        variants = {(bn, p): build(bn == "fused", p, args.batch, args.width)
                    for bn in ("keras", "fused") for p in ("float32", "mixed_bfloat16")}
    for model in variants.values():  # trace and warm up
        model.train_on_batch(x, y)
        model.train_on_batch(x, y)
    best = {key: float("inf") for key in variants}
    for _ in range(args.rounds):
        for key, model in variants.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                model.train_on_batch(x, y)
            best[key] = min(best[key], (time.perf_counter() - start) / args.steps)
    if args.widths:
        narrowest = best[(int(args.widths.split(",")[0]), False)]
        rows = [{"width": w, "xla": jit, "ms_per_step": 1000 * s, "images_per_s": args.batch / s,
                 "s_per_43k_epoch": 43_200 / args.batch * s, "time_vs_narrowest": s / narrowest,
                 "xla_speedup": best[(w, False)] / s if jit else None} for (w, jit), s in best.items()]
        print(f"fast preset network, fused batch norm, float32, batch {args.batch}; best of {args.rounds} "
              f"rounds of {args.steps} steps\n")
        print_table(rows, ["width", "xla", "ms_per_step", "images_per_s", "s_per_43k_epoch",
                           "time_vs_narrowest", "xla_speedup"])
        return
    base = best[("keras", "float32")]
    rows = [{"batchnorm": bn, "precision": p, "ms_per_step": 1000 * s, "images_per_s": args.batch / s,
             "s_per_45k_epoch": 45_000 / args.batch * s, "speed_vs_keras_fp32": base / s}
            for (bn, p), s in best.items()]
    print(f"fast preset network, width {args.width}, batch {args.batch}; best of {args.rounds} rounds "
          f"of {args.steps} steps\n")
    print_table(rows, ["batchnorm", "precision", "ms_per_step", "images_per_s", "s_per_45k_epoch",
                       "speed_vs_keras_fp32"])


if __name__ == "__main__":
    main()
