"""Cross-validation for the time-series app: walk-forward folds over the history before the
backtest's test window. Each fold fits the LSTM at the end of its training rows (scaler and
early-stopping tail inside those rows) and scores MASE on forecast origins after a gap of
lookback + horizon rows; no fold reads a target inside the test window."""
from __future__ import annotations

from typing import Any

import numpy as np
from regapps.shared.errors import DataError
from regapps.shared.selection.adapters import RefitTrial
from regapps.shared.selection.protocols import TrialResult
from regapps.shared.selection.splitters import Split, walk_forward

from .backtest import in_sample_naive_mae, min_history, plan_origins
from .config import TsConfig
from .features import Prepared
from .model import LstmForecaster
from .probabilistic import interval_score, scaled_residual_method


class TsCVTask:
    """Scores each fold by MASE, or (``backtest.select_on interval_score``) by the LSTM's
    interval score at the interval level; lower is better for both."""

    greater_is_better = False

    def __init__(self, prep: Prepared, config: TsConfig):
        self.prep = prep
        self.config = config
        self.metric: str = config.backtest.select_on
        origins, _ = plan_origins(prep, config)
        self.test_start = int(origins[0])  # selection never looks at or after this row

    def splits(self, folds: int, seed: int) -> list[Split]:
        m = self.config.model
        return walk_forward(self.test_start, folds, gap=m.lookback + m.horizon,
                            min_train=min_history(self.prep, self.config))

    def start(self, config: Any, train_idx: np.ndarray, val_idx: np.ndarray) -> RefitTrial:
        # The forecaster's shrink factor is fitted after training, so a rung refits from scratch.
        return RefitTrial(self.fit_score, config, train_idx, val_idx)

    def release(self) -> None:
        """Nothing to let go: every trial builds and compiles its own forecaster."""

    def fit_score(self, config: Any, train_idx: np.ndarray, val_idx: np.ndarray) -> TrialResult:
        horizon = config.model.horizon
        origin = int(train_idx[-1])
        origins = val_idx[val_idx + horizon < self.test_start]
        if len(origins) == 0:
            raise DataError("a validation fold has no forecast origin before the test window; use fewer --folds")
        if self.metric == "mase" and config.model.risk:  # the scale network cannot change MASE
            config = config.model_copy(update={"model": config.model.model_copy(update={"risk": False})})
        forecaster = LstmForecaster(config)
        forecaster.fit(self.prep, origin)
        paths = np.cumsum(forecaster.predict(self.prep, origins), axis=1)
        if self.metric == "interval_score":
            score = self._interval_score(forecaster, config, origins, paths)
        else:
            actual = self.prep.y[origins + horizon] - self.prep.y[origins]
            score = float(np.mean(np.abs(paths[:, -1] - actual)) / in_sample_naive_mae(self.prep, origin, horizon))
        fit = forecaster.fit_result
        return TrialResult(score, fit.epochs_run, fit.best_epoch, fit.seconds, fit.history)

    def _interval_score(self, forecaster: LstmForecaster, config: Any, origins: np.ndarray,
                        paths: np.ndarray) -> float:
        """Mean interval score at the last step over the fold's origins, walking forward through
        them as the backtest does (residuals pooled with the fit's validation tail)."""
        if forecaster.scale_model is None:
            raise DataError("cv on interval_score needs the LSTM scale model (model.risk true)")
        b = config.backtest
        dist = scaled_residual_method(self.prep, origins, paths, forecaster.predict_scale(self.prep, origins),
                                      b.interval_level, b.min_residuals, b.adapt_rate, forecaster.val_z,
                                      np.asarray(b.quantiles))
        y = self.prep.y[origins + config.model.horizon]
        return float(np.mean(interval_score(y, dist.lower[:, -1], dist.upper[:, -1], b.interval_level)))


def flat_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """``{"lstm": {"mase": ...}, "naive": {...}}`` -> ``{"lstm_mase": ..., ...}`` for tables."""
    return {f"{model}_{k}": v for model, values in metrics.items() for k, v in values.items()
            if k in ("mase", "mase_seasonal", "mae", "rmse", "directional_accuracy")}
