"""Benchmark: the ts app's LSTM against naive, drift and moving average on real daily prices.

One-day-ahead walk-forward (expanding window) over the last ~5 years of each series, with the
app's default model and training settings. Prints MASE (and its ratio to naive), directional
accuracy with its binomial p-value, the Diebold-Mariano p-value against naive, 90% interval
coverage and wall time per ticker.

    REGAPPS_BENCH_DATA=/work/shared/data python bench/ts_backtest.py [--tickers AAPL MSFT SPY]
        [--test-size 1260] [--refit-every 252] [--set training.epochs=50 ...]

Data: ``$REGAPPS_BENCH_DATA/stocks/<TICKER>.csv`` in Yahoo download format.
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


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", nargs="+", default=["AAPL", "MSFT", "SPY"])
    parser.add_argument("--test-size", type=int, default=1260, help="origins (~5 trading years)")
    parser.add_argument("--refit-every", type=int, default=252, help="refit yearly")
    parser.add_argument("--horizon", type=int, default=1)
    parser.add_argument("--set", dest="sets", action="append", default=[],
                        help="dotted config override, repeatable")
    parser.add_argument("--runs-dir", type=Path, default=None, help="keep the run directories here")
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args(argv)


def _row(ticker: str, name: str, m: dict[str, Any], naive_mase: float, cov: str, wall: str) -> str:
    def f(v: Any, spec: str) -> str:
        return "n/a" if v is None else format(v, spec)

    return (f"{ticker:<7}{name:<16}{f(m['mase'], '.4f'):>8}{f(m['mase'] / naive_mase, '.4f'):>9}"
            f"{f(m['directional_accuracy'], '.3f'):>9}{f(m['directional_p_value'], '.3f'):>8}"
            f"{f(m['dm_p_value'], '.3f'):>8}{cov:>8}{wall:>9}")


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    root = os.environ.get("REGAPPS_BENCH_DATA")
    if not root:
        sys.stderr.write("set REGAPPS_BENCH_DATA to the folder holding stocks/<TICKER>.csv\n")
        return 2
    from regapps.apps.ts import task
    from regapps.apps.ts.config import TsConfig
    from regapps.shared.config import build_config
    from regapps.shared.environment import configure_logging, import_tensorflow

    configure_logging(args.verbose)
    if not args.verbose:
        logging.getLogger("regapps").setLevel(logging.WARNING)
    import_tensorflow(args.verbose)
    runs = args.runs_dir or Path(tempfile.mkdtemp(prefix="regapps-bench-ts-"))
    head = (f"{'ticker':<7}{'method':<16}{'MASE':>8}{'vs naive':>9}{'dir.acc':>9}{'p(dir)':>8}"
            f"{'DM p':>8}{'cov90':>8}{'wall s':>9}")
    lines = [head, "-" * len(head)]
    summary = []
    for ticker in args.tickers:
        csv = Path(root) / "stocks" / f"{ticker}.csv"
        flags = {"data.source": "csv", "data.csv": str(csv), "backtest.test_size": args.test_size,
                 "backtest.refit_every": args.refit_every, "model.horizon": args.horizon}
        cfg = build_config(TsConfig, flags=flags, sets=args.sets)
        start = time.perf_counter()
        out = task.backtest(cfg, runs_dir=runs, name=f"bench-{ticker}")
        wall = time.perf_counter() - start
        metrics, naive_mase = out["metrics"], out["metrics"]["naive"]["mase"]
        cov = out["interval_coverage"]
        for name, m in metrics.items():
            is_model = name == "lstm"
            lines.append(_row(ticker, name, m, naive_mase,
                              f"{cov:.3f}" if is_model and cov is not None else "",
                              f"{wall:.0f}" if is_model else ""))
        summary.append(f"{ticker}: {out['n_test']} origins {out['test_start']}..{out['test_end']}, "
                       f"{len(out['refits'])} fits (shrink factors "
                       f"{', '.join(str(r['alpha']) for r in out['refits'])}), coverage n={out['interval_n']}")
    print("\n".join(lines))
    print("\n".join(summary))
    print(f"run directories: {runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
