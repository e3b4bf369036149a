"""cv executors: one small image search (digits, a grid of --candidates learning rates x 2 folds,
--epochs epochs) run sequentially, with --executor local --jobs 2, and on a 2-worker dask
LocalCluster (worker processes on 127.0.0.1). Prints wall time of the search, its ratio to the
sequential run, the trials' own compute time (measured where they ran) and the overhead per
trial: (wall x workers - compute) / trials, i.e. worker start-up (TensorFlow import), shipping
the task and results, and idle tails. Also checks that every executor got the same scores.

    python bench/scale.py [--candidates 4] [--epochs 3] [--jobs 2]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import print_table  # noqa: E402


def search(executor: Any, candidates: int, epochs: int, folder: Path) -> dict[str, Any]:
    from regapps.apps.image.config import ImageConfig
    from regapps.apps.image.task import IMAGE
    from regapps.shared.selection.search import run_search
    from regapps.shared.selection.trials import TrialStore
    from regapps.shared.toolkit import plan_cv

    rates = ",".join(f"{1e-4 * 3 ** i:.4g}" for i in range(candidates))
    config = ImageConfig.model_validate({"data": {"dataset": "digits"}, "training": {"epochs": epochs, "seed": 1}})
    request = plan_cv(IMAGE, config, [f"learning_rate={rates}"], search="grid", folds=2, seeds=1)
    base, plan = request.base, request.plan
    task = IMAGE.cv_task(config, IMAGE.load_data(config))
    store = TrialStore(folder / "cv_results.csv", list(plan.space))
    start = time.perf_counter()
    run_search(task, ImageConfig, base, plan, store, splits=task.splits(plan.folds, 1), executor=executor)
    wall = time.perf_counter() - start
    scores = {(r["candidate"], r["fold"]): r["score"] for r in store.rows}
    return {"wall": wall, "compute": sum(r["seconds"] for r in store.rows), "trials": len(store.rows),
            "scores": scores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from regapps.shared.environment import configure_logging
    from regapps.shared.environment import import_tensorflow
    from regapps.shared.selection.executors import DaskExecutor, LocalExecutor, SequentialExecutor

    configure_logging(False)
    import_tensorflow()
    rows, reference = [], None
    runs = [("sequential", 1, SequentialExecutor), (f"local --jobs {args.jobs}", args.jobs, lambda: LocalExecutor(args.jobs)),
            (f"dask LocalCluster {args.jobs} workers", args.jobs, lambda: DaskExecutor(None, args.jobs))]
    for label, workers, make in runs:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            executor = make()
            ready = time.perf_counter() - start
            try:
                out = search(executor, args.candidates, args.epochs, Path(tmp))
            finally:
                executor.close()
        reference = reference or out
        same = max(abs(out["scores"][k] - reference["scores"][k]) for k in reference["scores"])
        rows.append({"executor": label, "start s": ready, "search wall s": out["wall"],
                     "ratio to sequential": out["wall"] / reference["wall"],
                     "trials": out["trials"], "trial compute s": out["compute"],
                     "overhead s/trial": (out["wall"] * workers - out["compute"]) / out["trials"],
                     "max score diff": same})
    load = os.getloadavg()[0]
    print(f"{args.candidates} candidates x 2 folds, {args.epochs} epochs, digits; {os.cpu_count()} CPUs, "
          f"load average {load:.1f}{' (loaded: other processes were running)' if load > 1.5 else ''}")
    print_table(rows, ["executor", "start s", "search wall s", "ratio to sequential", "trials",
                       "trial compute s", "overhead s/trial", "max score diff"])


if __name__ == "__main__":
    main()
