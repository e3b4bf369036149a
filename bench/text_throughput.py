"""Training throughput of the text classifier: the article's way (``model.fit`` on NumPy arrays)
against regapps' tf.data pipeline, each with and without XLA (``jit_compile``), for both
poolings (nb, average, conv). Token ids are synthetic (uniform over the vocabulary): speed does not depend on
which words they are. Each row reports steady-state examples per second (epoch 2 of 2).

    python bench/text_throughput.py [--n 8000]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import print_machine, print_table  # noqa: E402


def measure(pooling: str, feed: str, jit: bool, ids: np.ndarray, y: np.ndarray,
            batch: int, vocab: int) -> dict[str, object]:
    import keras
    from regapps.apps.text.config import TextConfig
    from regapps.apps.text.data import make_dataset
    from regapps.shared.training import set_seed

    cfg = TextConfig.model_validate({"model": {"pooling": pooling}})
    set_seed(0)
    from regapps.apps.text.model import build_classifier

    model = build_classifier(cfg.model, vocab, cfg.regularization, ids.shape[1])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  metrics=["accuracy"], jit_compile=jit)
    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: object = None) -> None:
            times.append(time.perf_counter() - self.start)

    if feed == "numpy":
        model.fit(ids, y.astype(np.float32), batch_size=batch, epochs=2, verbose=0, callbacks=[Timer()])
    else:
        ds = make_dataset(ids, y, batch, shuffle=True, seed=0)
        model.fit(ds, epochs=2, verbose=0, callbacks=[Timer()])
    return {"pooling": pooling, "feed": feed, "jit_compile": jit,
            "first epoch s": round(times[0], 2), "examples/s": round(len(ids) / times[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8000, help="training examples per epoch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--sequence-length", type=int, default=800, help="token ids per text")
    parser.add_argument("--poolings", default="nb,average,conv")
    args = parser.parse_args()
    from regapps.apps.text.config import TextConfig
    from regapps.shared.environment import import_tensorflow

    import_tensorflow()
    print_machine()

    m, length = TextConfig().model, args.sequence_length
    rng = np.random.default_rng(0)
    lengths = rng.integers(min(100, length - 1), length, args.n)
    ids = rng.integers(2, m.max_tokens, (args.n, length)).astype(np.int32)
    ids[np.arange(length)[None, :] >= lengths[:, None]] = 0  # padding, as in real texts
    y = rng.integers(0, 2, args.n)
    print(f"{args.n} texts of up to {length} tokens, vocabulary {m.max_tokens}, "
          f"batch {args.batch_size}, {os.cpu_count()} CPUs", flush=True)
    rows = [measure(pooling, feed, jit, ids, y, args.batch_size, m.max_tokens)
            for pooling in args.poolings.split(",") for feed in ("numpy", "tf.data") for jit in (False, True)]
    print_table(rows, ["pooling", "feed", "jit_compile", "first epoch s", "examples/s"])


if __name__ == "__main__":
    main()
