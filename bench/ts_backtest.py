"""Benchmark: the ts app's LSTM against its baselines on real prices and weather, point and
distribution forecasts side by side.

Walk-forward (expanding window) with the app's default model and settings on each series:
- stocks (``$REGAPPS_BENCH_DATA/stocks/<TICKER>.csv``): one day ahead over the last ~5 years,
  refit yearly;
- weather (offline, vega_datasets): hourly Seattle temperature 24 hours ahead, and daily
  Seattle maximum temperature one day ahead (with and without temp_min, precipitation and
  wind as inputs).
Prints, per series: the transform and season chosen; MASE of every method and the LSTM's ratio
to the best of naive, seasonal naive and drift; for every distribution method its coverage of
the 90% interval, interval score, pinball loss and DM p-value against the best baseline; how much
the series' past can tell at all (``linear_bound.py``: ridge on the LSTM's inputs fit before the
test window, and fit on the test window itself, answers included); wall time of the whole
backtest, and the machine's CPU flags.

    REGAPPS_BENCH_DATA=/work/shared/data python bench/ts_backtest.py
        [--series AAPL MSFT SPY weather:seattle-hourly:24 weather:seattle-daily:1 ...]
        [--test-size 1260] [--refit-every 252] [--set training.epochs=50 ...]

A weather entry is ``weather:<series>:<horizon>[:<features>]`` (features comma-separated).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_machine  # noqa: E402
from linear_bound import ridge_bounds  # noqa: E402

DEFAULT_SERIES = ["AAPL", "MSFT", "SPY", "weather:seattle-hourly:24", "weather:seattle-daily:1",
                  "weather:seattle-daily:1:temp_min,precipitation,wind"]


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="+", default=DEFAULT_SERIES)
    parser.add_argument("--test-size", type=int, default=1260, help="stock origins (~5 trading years)")
    parser.add_argument("--refit-every", type=int, default=252, help="stocks: refit yearly")
    parser.add_argument("--weather-test-size", type=int, default=500)
    parser.add_argument("--weather-refit-every", type=int, default=250)
    parser.add_argument("--set", dest="sets", action="append", default=[],
                        help="dotted config override, repeatable")
    parser.add_argument("--runs-dir", type=Path, default=None, help="keep the run directories here")
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args(argv)


def _flags(spec: str, args: argparse.Namespace, root: str | None) -> tuple[str, dict[str, Any]]:
    if spec.startswith("weather:"):
        parts = spec.split(":")
        name, horizon = parts[1], int(parts[2])
        flags: dict[str, Any] = {"data.source": "weather", "data.series": name, "model.horizon": horizon,
                                 "backtest.test_size": args.weather_test_size,
                                 "backtest.refit_every": args.weather_refit_every}
        if len(parts) > 3:
            flags["data.features"] = parts[3]
        label = f"{name} h{horizon}" + (" +features" if len(parts) > 3 else "")
        return label, flags
    if not root:
        raise SystemExit("set REGAPPS_BENCH_DATA to the folder holding stocks/<TICKER>.csv")
    return f"{spec} h1", {"data.source": "csv", "data.csv": str(Path(root) / "stocks" / f"{spec}.csv"),
                          "backtest.test_size": args.test_size, "backtest.refit_every": args.refit_every}


def _f(v: Any, spec: str, width: int) -> str:
    return f"{'n/a' if v is None else format(v, spec):>{width}}"


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    root = os.environ.get("REGAPPS_BENCH_DATA")
    from regapps.apps.ts import task
    from regapps.apps.ts.config import TsConfig
    from regapps.apps.ts.data import EXOG, load_series
    from regapps.shared.config import build_config
    from regapps.shared.environment import configure_logging, import_tensorflow

    configure_logging(args.verbose)
    if not args.verbose:
        logging.getLogger("regapps").setLevel(logging.WARNING)
    print_machine()
    import_tensorflow(args.verbose)
    runs = args.runs_dir or Path(tempfile.mkdtemp(prefix="regapps-bench-ts-"))
    point = [f"{'series':<28}{'method':<16}{'MASE':>8}{'sMASE':>8}{'dir.acc':>9}{'DM p':>8}", "-" * 77]
    prob = [f"{'series':<28}{'method':<12}{'cov90':>7}{'int.score':>11}{'pinball':>10}{'width':>10}{'DM p':>8}",
            "-" * 86]
    summary = []
    bounds = [f"{'series':<28}{'n':>5}{'lstm':>8}{'ridge, past':>13}{'ridge, oracle':>15}", "-" * 69]
    for spec in args.series:
        label, flags = _flags(spec, args, root)
        cfg = build_config(TsConfig, flags=flags, sets=args.sets)
        start = time.perf_counter()
        out = task.backtest(cfg, runs_dir=runs, name="bench-" + label.replace(" ", "-").replace("+", ""))
        wall = time.perf_counter() - start
        frame = load_series(cfg.data).frame
        frame = frame[["target", *(c for c in frame.columns if c.startswith(EXOG))]]
        predictions = pd.read_csv(Path(out["run_dir"]) / "predictions.csv")
        b = ridge_bounds(frame, predictions, cfg.model.horizon, cfg.model.lookback)
        bounds.append(f"{label:<28}{b['n']:>5}{b['lstm']:>8.3f}{b['ridge_past']:>13.3f}{b['ridge_oracle']:>15.3f}")
        for name, m in out["metrics"].items():
            point.append(f"{label:<28}{name:<16}{_f(m['mase'], '.4f', 8)}{_f(m.get('mase_seasonal'), '.4f', 8)}"
                         f"{_f(m['directional_accuracy'], '.3f', 9)}{_f(m['dm_p_value'], '.3f', 8)}")
        for name, m in out["probabilistic"].items():
            prob.append(f"{label:<28}{name:<12}{_f(m['coverage'], '.3f', 7)}{_f(m['interval_score'], '.5g', 11)}"
                        f"{_f(m['pinball'], '.5g', 10)}{_f(m['width'], '.5g', 10)}{_f(m['dm_p_value'], '.3f', 8)}")
        lstm_is = out["probabilistic"].get("lstm", {}).get("interval_score")
        best = out["probabilistic_best_baseline"]
        best_is = out["probabilistic"].get(best, {}).get("interval_score") if best else None
        is_ratio = f"{lstm_is / best_is:.3f}" if lstm_is and best_is else "n/a"
        summary.append(f"{label}: {out['n_test']} origins {out['test_start']}..{out['test_end']}, "
                       f"transform {out['transform']}, season {out['season']}, {len(out['refits'])} fits; "
                       f"LSTM MASE / best of naive, seasonal naive, drift ({out['best_baseline']}): "
                       f"{_f(out['skill_ratio'], '.3f', 0)}; LSTM interval score / best baseline's "
                       f"({best}): {is_ratio}; wall {wall:.0f} s")
    print("\n".join(point))
    print()
    print("\n".join(prob))
    print()
    print("MAE over the best baseline's at the last step (lower is better); ridge on the LSTM's inputs "
          "fit before the test window (past) and on the test window itself, answers included (oracle):")
    print("\n".join(bounds))
    print()
    print("\n".join(summary))
    print(f"run directories: {runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
