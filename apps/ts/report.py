"""Markdown reports and metric tables for the time-series runs."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from regapps.shared.report import Report

from .backtest import Backtest
from .config import TsConfig
from .data import TsData
from .features import Prepared

COLUMNS = ["method", "mae", "rmse", "mape", "mase", "mase_seasonal", "directional_accuracy",
           "directional_p_value",
           "dm_stat", "dm_p_value", "n"]


def metric_rows(metrics: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"method": name, **{k: row.get(k) for k in COLUMNS[1:]}} for name, row in metrics.items()]


def text_table(metrics: Mapping[str, Mapping[str, Any]]) -> str:
    """A fixed-width table for the terminal (and the bench)."""
    head = (f"{'method':<15}{'MAE':>10}{'RMSE':>10}{'MAPE%':>8}{'MASE':>8}{'sMASE':>8}{'dir.acc':>9}"
            f"{'p(dir)':>8}{'DM p':>8}")
    lines = [head, "-" * len(head)]
    for name, r in metrics.items():
        lines.append(f"{name:<15}{_f(r.get('mae'), 10, 4)}{_f(r.get('rmse'), 10, 4)}"
                     f"{_f(r.get('mape'), 8, 3)}{_f(r.get('mase'), 8, 4)}{_f(r.get('mase_seasonal'), 8, 4)}"
                     f"{_f(r.get('directional_accuracy'), 9, 3)}{_f(r.get('directional_p_value'), 8, 3)}"
                     f"{_f(r.get('dm_p_value'), 8, 3)}")
    return "\n".join(lines)


def _f(value: Any, width: int, digits: int) -> str:
    return f"{'n/a':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


METRICS_NOTE = (
    "MAE, RMSE and MAPE are on the series' own scale. Directional accuracy counts origins where "
    "the forecast calls a direction (naive calls none; in a rising market 'always up', like "
    "drift, passes the 50% test); its p-value is a one-sided binomial test against 50%. DM: "
    "Diebold-Mariano (squared error, HLN correction) against naive; a negative statistic means "
    "smaller errors than naive.")


def backtest_report(config: TsConfig, data: TsData, prep: Prepared, bt: Backtest,
                    result: Mapping[str, Any]) -> Report:
    lstm, naive = result["metrics"]["lstm"], result["metrics"]["naive"]
    cov = result["interval_coverage"]
    st = prep.structure
    structure = (f"Transform {prep.transform}: {st.transform_reason}. Season {st.season}: "
                 f"{st.season_reason}." if st else "")
    ratio = result.get("skill_ratio")
    skill = ("" if ratio is None else f" LSTM MASE / best of naive, seasonal naive and drift "
             f"({result['best_baseline']}): {ratio:.3f}.")
    summary = (
        f"Walk-forward backtest on {data.source} ({len(prep)} rows, target {data.target_name!r}, "
        f"{prep.transform} transform): {result['n_test']} origins, {config.model.horizon}-step "
        f"forecasts for {result['test_start']} to {result['test_end']}, expanding window, refit "
        f"every {config.backtest.refit_every} origins ({len(bt.refits)} fits). LSTM MASE "
        f"{_num(lstm['mase'])} vs naive {_num(naive['mase'])} (DM p = {_num(lstm['dm_p_value'])}).{skill} "
        f"{config.backtest.interval_level:.0%} interval coverage: "
        f"{'n/a' if cov is None else f'{cov:.3f}'} over {result['interval_n']} origins.")
    shrink = ("Shrink factors toward the random walk per fit (0 = random walk, 1 = raw network): "
              + ", ".join(str(r.get("alpha")) for r in bt.refits) + ".")
    rep = Report(f"ts backtest: {data.source}").section("Summary").text(summary).text(shrink)
    if structure:
        rep.text(structure)
    for note in result["notes"]:
        rep.text(note)
    rep.section("Metrics").table(metric_rows(result["metrics"]), COLUMNS)
    rep.text(result["mase_note"] + ". " + METRICS_NOTE)
    rep.section("Intervals").text(result["interval_method"] + ".")
    probabilistic_section(rep, result, config.backtest.interval_level, config.backtest.quantiles)
    rep.section("Backtest plot").image("backtest.png", "backtest")
    rep.section("Refits").table(bt.refits)
    rep.section("Configuration").key_values(config.to_dict())
    return rep


def forecast_report(config: TsConfig, data: TsData, result: Mapping[str, Any]) -> Report:
    lstm, naive = result["backtest"]["lstm"], result["backtest"]["naive"]
    summary = (f"Forecast of {data.source} from {result['last_date']} (last value "
               f"{result['last_value']:.4g}), {config.model.horizon} steps ahead. Backtest MASE: "
               f"LSTM {_num(lstm['mase'])}, naive {_num(naive['mase'])}; backtest "
               f"{config.backtest.interval_level:.0%} interval coverage "
               f"{_num(result['backtest_interval_coverage'])}.")
    rep = Report(f"ts forecast: {data.source}").section("Summary").text(summary)
    for note in result["notes"]:
        rep.text(note)
    rep.section("Forecast").table(result["forecast"], ["date", "forecast", "lower", "upper"])
    rep.section("Intervals").text(f"From the {result['interval_source']} method: "
                                  f"{result['interval_choice']}. {result['interval_method']}.")
    rep.section("Plots").image("forecast.png", "forecast").image("backtest.png", "backtest")
    rep.section("Backtest metrics").table(metric_rows(result["backtest"]), COLUMNS)
    rep.text(METRICS_NOTE)
    rep.section("Configuration").key_values(config.to_dict())
    return rep


def _num(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


PROB_COLUMNS = ["method", "coverage", "interval_score", "pinball", "width", "dm_p_value", "versus"]


def probabilistic_section(rep: Report, result: Mapping[str, Any], level: float,
                          quantiles: list[float]) -> None:
    """Distribution forecasts: coverage, interval and pinball scores per method at the last
    horizon step, the DM test against the best baseline, the reliability diagram."""
    from .probabilistic import DESCRIPTIONS

    methods = result.get("probabilistic") or {}
    rep.section("Distribution forecasts")
    if not methods:
        rep.text("Too few origins with a forecast from every method to score them.")
        return
    rep.text(f"Scored on the {result['probabilistic_n']} origins where every method has a forecast, "
             f"at the last horizon step: coverage of the {level:.0%} interval, its interval (Winkler) "
             f"score, the mean pinball loss over quantiles {quantiles[0]:g}..{quantiles[-1]:g} ({len(quantiles)} "
             "levels; lower is better for both, in "
             "units of y) and the Diebold-Mariano p-value of the interval score against the best "
             f"baseline ({result['probabilistic_best_baseline']}). Every step: probabilistic.csv.")
    rep.table([{"method": m, **row} for m, row in methods.items()], PROB_COLUMNS)
    for name in methods:
        rep.text(f"{name}: {DESCRIPTIONS[name]}.")
    rep.image("probabilistic.png", "reliability and interval width")
