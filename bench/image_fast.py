"""The fast image preset against the article's CNN in the same wall-clock budget, on real
CIFAR-10, plus the ablation (fast minus each component).

Loads the 50,000 training images from ``$REGAPPS_BENCH_DATA/cifar-10-binary-train.tar.gz`` and
holds out a stratified 5,000 that nothing trains, selects or stops on. Each run trains through
``regapps image train``'s own path with ``--time-budget`` (the fast preset's one-cycle schedule is
laid out for the epochs that fit), in its own process, one after the other, and is scored once on
the held-out images. Targets (issue #8): fast >= 87% within 450 s of training, >= 90% within 15
minutes.

    REGAPPS_BENCH_DATA=../shared/data python bench/image_fast.py                 # article vs fast, 7.5 min
    REGAPPS_BENCH_DATA=../shared/data python bench/image_fast.py --runs fast --budget 15
    REGAPPS_BENCH_DATA=../shared/data python bench/image_fast.py --runs ablation
    REGAPPS_BENCH_DATA=../shared/data python bench/image_fast.py --runs "fast,fast in float32"
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import peak_rss_mib, print_table, run_child  # noqa: E402
from image_accuracy import held_out_split  # noqa: E402

HOLDOUT = 5_000

# fast minus one component at a time; every one is a config key with its own flag or --set
ABLATIONS: dict[str, dict[str, object]] = {
    "fast - batchnorm": {"regularization.batchnorm": False},
    "fast - augmentation": {"augment.flip": False, "augment.crop_padding": 0},
    "fast - weight decay": {"optimizer.weight_decay": 0.0},
    "fast - one-cycle (constant lr 0.05)": {"schedule.name": "constant", "optimizer.learning_rate": 0.05},
    "fast - label smoothing": {"training.label_smoothing": 0.0},
    "fast - nesterov (adamw 3e-3)": {"optimizer.name": "adamw", "optimizer.learning_rate": 3e-3,
                                     "optimizer.weight_decay": 5e-2},
}

# fast with one setting changed that is not a component (precision only changes speed)
ADDITIONS: dict[str, dict[str, object]] = {
    "fast in float32": {"training.precision": "float32"},
}


def child(variant: str, budget: float) -> None:
    from regapps.apps.image import task
    from regapps.apps.image.config import ImageConfig
    from regapps.shared.config import build_config
    from regapps.shared.environment import import_tensorflow
    from regapps.shared.modelio import load_model

    import_tensorflow()
    data = held_out_split(HOLDOUT)
    preset = "article" if variant == "article" else "fast"
    flags: dict[str, object] = {"model.preset": preset, "training.time_budget_minutes": budget}
    if preset == "fast":
        flags["training.epochs"] = 1000  # the budget decides, as `--time-budget` without --epochs
    flags.update(ABLATIONS.get(variant, ADDITIONS.get(variant, {})))
    config = build_config(ImageConfig, flags=flags)
    with tempfile.TemporaryDirectory() as runs:
        result = task.train(config, runs_dir=Path(runs), verbose=0, data=data)
        model = load_model(Path(result.run_dir) / "model.keras")
        plain = task.score(model, data.x_test, data.y_test, data.class_names)[0]["accuracy"]
    training = result.metrics["training"]
    print(json.dumps({"variant": variant, "budget_min": budget, "epochs": training["epochs_run"],
                      "train_s": training["train_seconds"], "precision": training.get("precision"),
                      "held_out_acc": result.metrics["test"]["accuracy"],
                      "no_flip_avg_acc": plain, "peak_mib": round(peak_rss_mib())}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "BUDGET"))
    parser.add_argument("--runs", default="article,fast",
                        help="comma list of article, fast, ablation (every fast-minus-one variant), or a variant name")
    parser.add_argument("--budget", type=float, default=7.5, help="training minutes per run")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], float(args.child[1]))
        return
    variants: list[str] = []
    for name in args.runs.split(","):
        variants += list(ABLATIONS) if name == "ablation" else [name]
    rows = []
    for variant in variants:
        rows.append(run_child(__file__, variant, str(args.budget), timeout=args.budget * 60 * 3 + 600))
        print(json.dumps(rows[-1]), flush=True)
    print(f"\nCIFAR-10: 45,000 training images, 5,000 held out; {args.budget:g} min of training per run\n")
    print_table(rows, ["variant", "precision", "epochs", "train_s", "held_out_acc", "no_flip_avg_acc", "peak_mib"])


if __name__ == "__main__":
    main()
