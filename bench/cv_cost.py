"""Successive halving against the full grid: same space, data, folds and seed. Prints the wall
time of each, the ratio (target <= 0.35) and whether both pick the same configuration (or one
within the other's 95% CI).

    python bench/cv_cost.py                         # digits (offline)
    REGAPPS_BENCH_DATA=../shared/data python bench/cv_cost.py --cifar-subset 10000

The space is 3 x 3 x 3 = 27 candidates (L2 strength, dropout rate, learning rate): all three are
values the compiled train step reads from variables, so every trial of a search trains on one
shared compiled model (shared/model_pool.py) and tracing is paid once, not per trial.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_data, print_table  # noqa: E402

GRID = ["l2=0,1e-4,1e-3", "dropout=0,0.25,0.5", "learning_rate=3e-4,1e-3,3e-3"]


def load(cifar_subset: int) -> Any:
    from regapps.apps.image.data import from_local, load_digits, load_local

    root = bench_data()
    if root is None or not cifar_subset:
        return load_digits()
    from sklearn.model_selection import train_test_split

    data = from_local(load_local(root / "cifar-10-binary-train.tar.gz"))
    keep, _ = train_test_split(range(len(data.y_train)), train_size=cifar_subset,
                               stratify=data.y_train, random_state=0)
    data.x_train, data.y_train = data.x_train[keep], data.y_train[keep]
    data.source = f"CIFAR-10 train, stratified subset of {cifar_subset}"
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=27)
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--cifar-subset", type=int, default=0)
    args = parser.parse_args()

    from regapps.shared.environment import import_tensorflow

    import_tensorflow()
    from regapps.apps.image.config import ImageConfig
    from regapps.apps.image.cv import image_cv_task
    from regapps.apps.image.task import IMAGE
    from regapps.shared.config import build_config
    from regapps.shared.selection.runner import CVSpec, run_cv
    from regapps.shared.toolkit import plan_cv

    data = load(args.cifar_subset)
    config = build_config(ImageConfig, flags={"training.epochs": args.epochs, "training.patience": 5, "training.seed": 0})
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for search in ("grid", "halving"):
            task, compiled = image_cv_task(data), []
            release = task.release
            task.release = lambda: (compiled.append(len(task.pool)), release())  # type: ignore[method-assign]
            # the engine itself, with the toolkit's plan and no refit: the search is what is timed
            spec = CVSpec("image", ImageConfig, task, refit=lambda cfg, folder: {}, data_source=data.source)
            request = plan_cv(IMAGE, config, GRID, search=search, n_iter=1, folds=args.folds, seeds=1, eta=3)
            plan = request.plan
            start = time.perf_counter()
            result = run_cv(spec, plan, request.base, runs_dir=Path(tmp), name=search).to_dict()
            results[search] = {"search": search, "legs": plan.total_trials(), "compiled": compiled[0],
                               "wall_s": time.perf_counter() - start, **_cost(result), **_best(result)}
    grid, halving = results["grid"], results["halving"]
    print(f"data: {data.source}; {len(GRID)} keys, 27 candidates, {args.folds} folds, "
          f"up to {args.epochs} epochs (patience 5)\n")
    print_table(list(results.values()), ["search", "legs", "models", "compiled", "epochs_trained", "wall_s", "best",
                                         "cv_accuracy", "ci95"])
    same = grid["params"] == halving["params"]
    pick = next(float(r["mean"]) for r in grid["rows"]
                if all(str(r[k]) == str(v) for k, v in halving["params"].items()))
    within = grid["ci_low"] <= pick
    print(f"\nwall-time ratio halving/grid: {halving['wall_s'] / grid['wall_s']:.2f} (target <= 0.35)")
    print(f"same winner: {same}" + ("" if same else f"; halving's pick scores {pick:.4f} in the full grid, "
                                    f"{'within' if within else 'outside'} the grid winner's 95% CI"))


def _cost(result: dict[str, Any]) -> dict[str, int]:
    """Models initialized (one per candidate x fold x seed: halving's survivors go on warm; each
    trains on one of the ``compiled`` models the trials share) and epochs actually trained (a
    survivor's last rung counts its epochs once)."""
    import csv

    with open(Path(result["run_dir"]) / "cv_results.csv", newline="") as handle:
        trained: dict[tuple[str, str, str], int] = {}
        for row in csv.DictReader(handle):
            key = (row["candidate"], row["fold"], row["seed"])
            trained[key] = max(trained.get(key, 0), int(row["epochs_run"]))
    return {"models": len(trained), "epochs_trained": sum(trained.values())}


def _best(result: dict[str, Any]) -> dict[str, Any]:
    import csv

    best = result["best"]
    with open(Path(result["run_dir"]) / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {"params": best["params"], "best": ", ".join(f"{k.split('.')[-1]}={v}" for k, v in best["params"].items()),
            "cv_accuracy": best["score"], "ci95": f"{best['ci95'][0]:.4f}..{best['ci95'][1]:.4f}",
            "ci_low": best["ci95"][0], "rows": rows}


if __name__ == "__main__":
    main()
