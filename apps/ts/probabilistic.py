"""Distribution forecasts in the walk-forward backtest, and their proper scores.

Four methods give, per origin and horizon step, quantiles of ``y`` at the levels ``taus``
(``backtest.quantiles``, by default 0.05, 0.10, ..., 0.95) and an interval
at ``backtest.interval_level``:
- ``lstm``: filtered historical simulation on the LSTM's scale forecast (:mod:`.risk`): the
  point path plus quantiles of past residuals divided by the scale the LSTM forecast for them,
  times the scale it forecasts now; the interval's level adapts to past misses (adaptive
  conformal inference);
- ``ewma``: the same with the EWMA (RiskMetrics) volatility in place of the LSTM's scale;
- ``garch``: GARCH(1,1) with Student-t innovations, refitted at every refit origin;
- ``historical``: empirical quantiles of all past changes over the same number of steps.
Only residuals and changes already observed at an origin are used there.

Scores: coverage of the interval, the interval (Winkler) score, the mean pinball loss over
``taus`` and a Diebold-Mariano test of the interval score against the best baseline. All on
the origins where every method has a forecast, so they compare like with like.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .features import Prepared
from .metrics import dm_test, final_bands, standardized_residuals, walk_forward_bands
from .risk import GarchScale

TAUS = np.round(np.arange(0.05, 0.951, 0.05), 2)
BASELINE_METHODS = ("ewma", "garch", "historical")


DESCRIPTIONS = {
    "lstm": "filtered historical simulation on the LSTM's own scale forecast (a second LSTM head "
            "trained by Gaussian likelihood on the point model's residuals), adaptive level",
    "ewma": "filtered historical simulation on the EWMA (RiskMetrics) volatility, adaptive level",
    "garch": "GARCH(1,1) with Student-t innovations (arch), refitted at each refit origin",
    "historical": "empirical quantiles of every past change over the same number of steps",
}


@dataclass
class Distribution:
    """Quantiles ``(n, H, len(taus))`` and the interval ``(n, H)`` of ``y``, NaN where the
    method has no forecast yet."""

    quantiles: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def ewma_scale(prep: Prepared, rows: np.ndarray, horizon: int) -> np.ndarray:
    """The EWMA volatility at each row times sqrt(k): the scale of the change to each step, (n, H)."""
    return prep.sigma[rows][:, None] * np.sqrt(np.arange(1, horizon + 1))[None, :]


def interval_taus(level: float) -> np.ndarray:
    return np.array([(1 - level) / 2, (1 + level) / 2])


def walk_forward_quantiles(z: np.ndarray, taus: np.ndarray, min_residuals: int,
                           prefix: np.ndarray | None = None) -> np.ndarray:
    """Per origin ``i`` and step ``k``: quantiles of the residuals ``z[j, k]`` observed by origin
    ``i`` (``j <= i - k``) pooled with ``prefix`` (residuals known before the first origin), NaN
    until ``min_residuals`` exist. ``(n, H, len(taus))``."""
    n, horizon = z.shape
    before = np.empty((0, horizon)) if prefix is None else prefix
    out = np.full((n, horizon, len(taus)), np.nan)
    for k in range(1, horizon + 1):
        col = z[:, k - 1]
        for i in range(n):
            known = max(0, i - k + 1)
            if known + len(before) >= min_residuals:
                out[i, k - 1] = np.quantile(np.concatenate([before[:, k - 1], col[:known]]), taus)
    return out


def scaled_residual_method(prep: Prepared, origins: np.ndarray, path: np.ndarray, scale: np.ndarray,
                           level: float, min_residuals: int, adapt_rate: float,
                           prefix: np.ndarray | None = None, taus: np.ndarray = TAUS) -> Distribution:
    """Filtered historical simulation: ``y[o] + path + q(z) * scale`` with ``z`` the past
    residuals over their own scales (and ``prefix``, known before the first origin); the
    interval's level adapts to past misses."""
    z = standardized_residuals(prep.y, origins, path, scale)
    centre = prep.y[origins][:, None] + path
    q = walk_forward_quantiles(z, taus, min_residuals, prefix)
    lo, hi, levels = walk_forward_bands(z, level, min_residuals, adapt_rate, prefix)
    if prefix is not None:
        z = np.concatenate([prefix, z])  # the forecast after the data pools them too
    return Distribution(centre[:, :, None] + q * scale[:, :, None], centre + lo * scale, centre + hi * scale,
                        {"z": z, "levels": levels})


def historical_method(prep: Prepared, origins: np.ndarray, horizon: int, level: float,
                      taus: np.ndarray = TAUS) -> Distribution:
    """Empirical quantiles of every change over ``k`` rows observed by the origin."""
    n, k_taus = len(origins), len(taus)
    taus = np.concatenate([taus, interval_taus(level)])
    out = np.full((n, horizon, len(taus)), np.nan)
    y = prep.y
    for k in range(1, horizon + 1):
        changes = y[k:] - y[:-k]  # changes[t] = y[t + k] - y[t], observed at row t + k
        for i, o in enumerate(origins):
            out[i, k - 1] = np.quantile(changes[:o - k + 1], taus)
    base = y[origins][:, None, None]
    return Distribution(base + out[:, :, :k_taus], base[:, :, 0] + out[:, :, -2], base[:, :, 0] + out[:, :, -1])


def garch_method(prep: Prepared, origins: np.ndarray, horizon: int, level: float,
                 refit_every: int, taus: np.ndarray = TAUS) -> Distribution:
    """GARCH(1,1)-t refitted at the first origin of each block of ``refit_every``."""
    n = len(origins)
    quantiles = np.full((n, horizon, len(taus)), np.nan)
    lower, upper = np.full((n, horizon), np.nan), np.full((n, horizon), np.nan)
    fits = []
    for start in range(0, n, refit_every):
        block = origins[start:start + refit_every]
        model = GarchScale()
        fits.append({"origin": prep.stamp(int(block[0])), **model.fit(prep, int(block[0]))})
        shift, scale = model.scales(prep, block, horizon)
        centre = prep.y[block][:, None] + shift
        rows = slice(start, start + len(block))
        quantiles[rows] = centre[:, :, None] + scale[:, :, None] * model.standard_quantiles(taus)[None, None, :]
        lo, hi = model.standard_quantiles(interval_taus(level))
        lower[rows], upper[rows] = centre + lo * scale, centre + hi * scale
    return Distribution(quantiles, lower, upper, {"fits": fits})


def pinball(y: np.ndarray, q: np.ndarray, taus: np.ndarray = TAUS) -> np.ndarray:
    """Mean pinball loss over ``taus`` per row: ``y`` (n,), ``q`` (n, K)."""
    diff = y[:, None] - q
    return np.mean(np.maximum(taus[None, :] * diff, (taus[None, :] - 1) * diff), axis=1)


def interval_score(y: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: float) -> np.ndarray:
    """Winkler's interval score per row: the width plus ``2 / (1 - level)`` times the miss."""
    a = 1 - level
    return (hi - lo) + (2 / a) * np.maximum(lo - y, 0) + (2 / a) * np.maximum(y - hi, 0)


def score_distributions(prep: Prepared, origins: np.ndarray, dists: dict[str, Distribution],
                        level: float, taus: np.ndarray = TAUS) -> dict[str, Any]:
    """Scores per method at the last step (the headline, like the point metrics) and per step,
    on the origins where every method has a forecast; DM tests against the best baseline."""
    horizon = next(iter(dists.values())).lower.shape[1]
    steps = np.arange(1, horizon + 1)
    truth = prep.y[origins[:, None] + steps[None, :]]
    usable = np.ones(len(origins), dtype=bool)
    for d in dists.values():
        usable &= np.isfinite(d.lower).all(axis=1) & np.isfinite(d.quantiles).all(axis=(1, 2))
    out: dict[str, Any] = {"n": int(usable.sum()), "level": level, "by_step": {}}
    if usable.sum() < 10:
        return out
    per_step: dict[str, list[dict[str, Any]]] = {m: [] for m in dists}
    losses: dict[str, list[np.ndarray]] = {m: [] for m in dists}
    for k in range(horizon):
        y = truth[usable, k]
        for name, d in dists.items():
            lo, hi = d.lower[usable, k], d.upper[usable, k]
            score = interval_score(y, lo, hi, level)
            losses[name].append(score)
            per_step[name].append({"step": k + 1, "coverage": float(np.mean((lo <= y) & (y <= hi))),
                                   "interval_score": float(score.mean()), "width": float(np.mean(hi - lo)),
                                   "pinball": float(pinball(y, d.quantiles[usable, k], taus).mean())})
    baselines = [m for m in BASELINE_METHODS if m in dists]
    for k in range(horizon):
        best = min(baselines, key=lambda m: per_step[m][k]["interval_score"])
        for name in dists:
            row = per_step[name][k]
            row["dm_p_value"] = (None if name == best else
                                 dm_test(losses[name][k] - losses[best][k], k + 1)[1])
            row["versus"] = best
    out["by_step"] = per_step
    out["methods"] = {m: per_step[m][-1] for m in dists}
    out["best_baseline"] = min(baselines, key=lambda m: per_step[m][-1]["interval_score"])
    levels, observed = reliability(truth[usable, -1], {m: d.quantiles[usable, -1] for m, d in dists.items()}, taus)
    out["reliability"] = {"levels": levels, **observed}
    return out


def central_pairs(taus: np.ndarray) -> list[tuple[float, int, int]]:
    """(nominal level, lower index, upper index) of every symmetric pair ``tau, 1 - tau``."""
    pairs = []
    for i, t in enumerate(taus):
        j = np.flatnonzero(np.isclose(taus, 1 - t))
        if t < 0.5 and len(j):
            pairs.append((round(1 - 2 * float(t), 6), i, int(j[0])))
    return sorted(pairs)


def reliability(y: np.ndarray, quantiles: dict[str, np.ndarray],
                taus: np.ndarray) -> tuple[list[float], dict[str, list[float]]]:
    """Nominal levels of the central intervals the quantiles form, and each method's observed
    coverage of them."""
    pairs = central_pairs(taus)
    observed = {name: [float(np.mean((q[:, lo] <= y) & (y <= q[:, hi]))) for _, lo, hi in pairs]
                for name, q in quantiles.items()}
    return [p[0] for p in pairs], observed


def choose_intervals(scores: dict[str, Any]) -> tuple[str, str]:
    """The method whose intervals ``forecast`` uses: the LSTM's when its interval score at the
    last step beats the best baseline's, else that baseline's; and a sentence saying so."""
    methods = scores.get("methods")
    if not methods:
        return "ewma", "too few backtest origins to compare interval methods; using the EWMA method"
    best = scores["best_baseline"]
    lstm = methods.get("lstm")
    if lstm is not None and lstm["interval_score"] < methods[best]["interval_score"]:
        return "lstm", (f"the LSTM's intervals beat the best baseline ({best}) in the backtest: "
                        f"interval score {lstm['interval_score']:.4g} vs {methods[best]['interval_score']:.4g}")
    if lstm is None:
        return best, f"the LSTM scale model is off (model.risk); using the best baseline, {best}"
    return best, (f"the LSTM's intervals do not beat the best baseline in the backtest "
                  f"(interval score {lstm['interval_score']:.4g} vs {best} "
                  f"{methods[best]['interval_score']:.4g}); using {best}'s")


def future_interval(method: str, prep: Prepared, path: np.ndarray, dists: dict[str, Distribution],
                    lstm_scale: np.ndarray | None, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The interval ``(H,)`` of ``y`` after the last row by ``method``: the scaled-residual
    methods use every walk-forward residual at its adapted level around the final ``path``;
    GARCH is refitted on all the data; historical takes every past change."""
    last = len(prep) - 1
    horizon = len(path)
    steps = np.arange(1, horizon + 1)
    if method in ("lstm", "ewma"):
        info = dists[method].info
        zlo, zhi = final_bands(info["z"], info["levels"])
        scale = lstm_scale if method == "lstm" and lstm_scale is not None else ewma_scale(prep, np.array([last]), horizon)[0]
        centre = prep.y[last] + path
        return centre + zlo * scale, centre + zhi * scale
    if method == "garch":
        model = GarchScale()
        model.fit(prep, last)
        shift, scale = model.scales(prep, np.array([last]), horizon)
        lo, hi = model.standard_quantiles(interval_taus(level))
        centre = prep.y[last] + shift[0]
        return centre + lo * scale[0], centre + hi * scale[0]
    taus = interval_taus(level)
    bounds = np.array([np.quantile(prep.y[k:] - prep.y[:-k], taus) for k in steps])
    return prep.y[last] + bounds[:, 0], prep.y[last] + bounds[:, 1]
