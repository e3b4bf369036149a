"""What each search costs and finds: grid, random, TPE and TPE with pruning over the same space,
with the same folds and seed; then TPE over each app's default space against the untuned
default ``train``. Prints the machine's CPU flags first.

For each search: trials trained, wall time of the search (the refit of its winner not
counted) and its ratio to the grid's, the best cv score with its 95% CI, whether it is within
the grid winner's CI, the best cv score after each quarter of its candidates, and the held-out
score of its winner refitted on all the cv data.

    python bench/search_cost.py                                   # digits and rt-snippets (offline)
    REGAPPS_BENCH_DATA=../shared/data python bench/search_cost.py --data digits,cifar,imdb
    python bench/search_cost.py --data digits,snippets,ts-MSFT --default-space   # default space vs default train

Targets (issue 17): TPE with pruning reaches the grid's best (within the grid winner's 95% CI)
in at most 0.3x the grid's wall time; on the default space, the cv winner beats the untuned
default ``train`` on held-out data.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_data, print_machine, print_table  # noqa: E402

# a grid every search can take (lists): 27 candidates of values the train step reads from
# variables, so trials share compiled models
SPACES = {
    "image": ["l2=0,1e-4,1e-3", "dropout=0,0.25,0.5", "learning_rate=3e-4,1e-3,3e-3"],
    "text": ["dropout=0,0.25,0.5", "learning_rate=5e-3,2e-2,6e-2", "model.nb_smoothing=1,5,20"],
}


def load(name: str, args: argparse.Namespace) -> tuple[str, Any, dict[str, Any]]:
    """(app, data with a held-out test part, config flags) for a benchmark dataset."""
    from sklearn.model_selection import train_test_split

    if name == "digits":
        from regapps.apps.image.data import load_digits

        return "image", load_digits(), {"training.epochs": args.epochs, "training.patience": 5}
    if name.startswith("ts-"):  # ts-MSFT: a registry-packaged sample series (offline)
        from regapps.apps.ts.config import TsConfig
        from regapps.apps.ts.task import TS
        from regapps.shared.config import build_config

        flags: dict[str, Any] = {"data.source": "sample", "data.ticker": name[3:]}
        if name.startswith("ts-weather-"):  # ts-weather-hourly (24 h ahead), ts-weather-daily
            hourly = name.endswith("hourly")
            flags = {"data.source": "weather", "data.series": "seattle-hourly" if hourly else "seattle-daily",
                     "model.horizon": 24 if hourly else 1}
        return "ts", TS.load_data(build_config(TsConfig, flags=flags)), flags
    if name == "snippets":
        from regapps.apps.text.data import load_rt_snippets
        from regapps.shared.environment import cache_dir

        return "text", load_rt_snippets(cache_dir()), {"data.dataset": "rt-snippets"}
    root = bench_data()
    if root is None:
        raise SystemExit(f"{name}: set REGAPPS_BENCH_DATA to the folder with the benchmark data (../shared/data)")
    if name == "cifar":
        from regapps.apps.image.data import from_local, load_local

        data = from_local(load_local(root / "cifar-10-binary-train.tar.gz"))
        keep, rest = train_test_split(np.arange(len(data.y_train)), train_size=args.cifar_subset,
                                      stratify=data.y_train, random_state=0)
        held, _ = train_test_split(rest, train_size=args.cifar_subset // 2, stratify=data.y_train[rest], random_state=0)
        data.x_test, data.y_test = data.x_train[held], data.y_train[held]
        data.x_train, data.y_train = data.x_train[keep], data.y_train[keep]
        data.source = f"CIFAR-10 train: {args.cifar_subset} for cv, {len(held)} held out"
        return "image", data, {"training.epochs": args.epochs, "training.patience": 5}
    if name == "imdb":
        from regapps.apps.text.data import TextData
        from regapps.apps.text.formats import read_acl_tarball

        local = read_acl_tarball(root / "aclImdb-train.tar.gz")
        assert local.train is not None
        x, y = list(local.train.x), np.asarray(local.train.y)
        keep, rest = train_test_split(np.arange(len(y)), train_size=args.imdb_subset, stratify=y, random_state=0)
        held, _ = train_test_split(rest, train_size=args.imdb_subset // 2, stratify=y[rest], random_state=0)
        data = TextData([x[i] for i in keep], y[keep], [x[i] for i in held], y[held],
                        f"IMDB train: {args.imdb_subset} for cv, {len(held)} held out")
        return "text", data, {}
    raise SystemExit(f"unknown data {name!r}: digits, snippets, cifar or imdb")


def app_object(app: str) -> Any:
    import importlib

    return getattr(importlib.import_module(f"regapps.apps.{app}.task"), app.upper())


def search(app: str, data: Any, flags: dict[str, Any], space: list[str] | None, kind: str | None, *,
           n_iter: int, prune: bool, folds: int, tmp: Path, label: str) -> dict[str, Any]:
    """One search through the engine, as ``cv`` runs it; the refit is timed apart."""
    from regapps.shared.config import build_config
    from regapps.shared.selection.runner import CVSpec, run_cv
    from regapps.shared.toolkit import plan_cv

    obj = app_object(app)
    config = build_config(obj.config_cls, flags={**flags, "training.seed": 0})
    request = plan_cv(obj, config, space, search=kind, n_iter=n_iter, folds=folds, prune=prune)
    refit_seconds: list[float] = []

    def refit(best: Any, folder: Path) -> dict[str, Any]:
        start = time.perf_counter()
        out = obj.refit(best, data, folder)
        refit_seconds.append(time.perf_counter() - start)
        return out

    spec = CVSpec(app, obj.config_cls, obj.cv_task(config, data), refit=refit, data_source=data.source)
    start = time.perf_counter()
    result = run_cv(spec, request.plan, request.base, runs_dir=tmp, name=label,
                    split_seed=request.base["training"]["seed"])
    wall = time.perf_counter() - start - sum(refit_seconds)
    rows = (result.run_dir / "cv_results.csv").read_text().splitlines()
    history = [p["best"] for p in result.history]
    quarters = [history[min(len(history) - 1, max(0, round(len(history) * q) - 1))] for q in (0.25, 0.5, 0.75, 1.0)]
    return {"search": label, "candidates": len(result.history), "trials": len(rows) - 1, "wall_s": round(wall, 1),
            "cv": result.best.score, "ci95": result.best.ci95, "best_by_quarter": " ".join(f"{q:.4f}" for q in quarters),
            "held_out": (result.test or {}).get(HELD_OUT[app]), "params": result.best.params}


HELD_OUT = {"image": "accuracy", "text": "accuracy", "ts": "lstm_mase"}  # ts: lower is better


def default_train(app: str, data: Any, flags: dict[str, Any], tmp: Path) -> dict[str, Any]:
    """The untuned default, trained as cv refits its winner (``train``; for ts, a backtest)."""
    from regapps.shared.config import build_config

    obj = app_object(app)
    config = build_config(obj.config_cls, flags={**flags, "training.seed": 0})
    start = time.perf_counter()
    out = obj.refit(config, data, tmp)
    return {"search": "default train", "wall_s": round(time.perf_counter() - start, 1),
            "held_out": (out.get("metrics", {}).get("test") or {}).get(HELD_OUT[app]), "cv": None}


def compare_searches(name: str, args: argparse.Namespace, tmp: Path) -> None:
    app, data, flags = load(name, args)
    space = SPACES[app]
    print(f"\n## {name}: {data.source}; space {' '.join(space)} (27 candidates), {args.folds} folds")
    rows = [search(app, data, flags, space, "grid", n_iter=1, prune=False, folds=args.folds, tmp=tmp, label="grid")]
    for label, kind, prune in (("random", "random", False), ("tpe", "tpe", False), ("tpe+prune", "tpe", True)):
        rows.append(search(app, data, flags, space, kind, n_iter=args.n_iter, prune=prune, folds=args.folds,
                           tmp=tmp, label=label))
    grid_wall, grid_low = rows[0]["wall_s"], rows[0]["ci95"][0]
    for row in rows:
        row["time/grid"] = round(row["wall_s"] / grid_wall, 3)
        row["in_grid_ci"] = grid_low <= row["cv"]
        row["ci95"] = f"{row['ci95'][0]:.4f}..{row['ci95'][1]:.4f}"
    print_table(rows, ["search", "candidates", "trials", "wall_s", "time/grid", "cv", "ci95", "in_grid_ci",
                       "best_by_quarter", "held_out"])
    for row in rows:
        print(f"  {row['search']}: " + ", ".join(f"{k.split('.')[-1]}={v}" for k, v in row["params"].items()))


def compare_default(name: str, args: argparse.Namespace, tmp: Path) -> None:
    app, data, flags = load(name, args)
    obj = app_object(app)
    from regapps.shared.config import build_config

    space = obj.default_space(build_config(obj.config_cls, flags=flags))
    print(f"\n## {name}, default space: {' '.join(space)}; TPE, {args.n_iter} candidates, {args.folds} folds")
    base = default_train(app, data, flags, tmp)
    tuned = search(app, data, flags, None, None, n_iter=args.n_iter, prune=args.prune_default, folds=args.folds,
                   tmp=tmp, label="tpe" + ("+prune" if args.prune_default else ""))
    tuned["time/train"] = round(tuned["wall_s"] / base["wall_s"], 2)
    base["time/train"] = 1.0
    print_table([base, tuned], ["search", "wall_s", "time/train", "cv", "held_out"])
    print("  tpe winner: " + ", ".join(f"{k.split('.')[-1]}={v}" for k, v in tuned["params"].items()))
    print(f"  held-out {HELD_OUT[app]}: tuned {tuned['held_out']:.4f} against default {base['held_out']:.4f} "
          f"({tuned['held_out'] - base['held_out']:+.4f}; " + ("lower" if app == "ts" else "higher") + " is better)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits,snippets",
                        help="comma list: digits, snippets, cifar, imdb; with --default-space also ts-TICKER "
                             "(ts-MSFT) and ts-weather-hourly, ts-weather-daily")
    parser.add_argument("--epochs", type=int, default=27, help="image: epochs per trial (patience 5)")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--n-iter", type=int, default=9, help="candidates of random and TPE")
    parser.add_argument("--cifar-subset", type=int, default=5000)
    parser.add_argument("--imdb-subset", type=int, default=5000)
    parser.add_argument("--default-space", action="store_true", help="TPE on the default space vs default train")
    parser.add_argument("--prune-default", action="store_true", help="with --default-space: prune too")
    args = parser.parse_args()
    print_machine()
    from regapps.shared.environment import configure_logging, import_tensorflow

    configure_logging(False)
    import_tensorflow()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.data.split(","):
            (compare_default if args.default_space else compare_searches)(name.strip(), args, Path(tmp))


if __name__ == "__main__":
    main()
