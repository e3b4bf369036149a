"""The stacked LSTM and the forecaster that fits it at one origin and forecasts from later ones.

Leakage rules, enforced here and checked by tests/ts/test_lookahead.py:
- fitting at origin ``t`` uses windows whose targets end at or before ``t`` and a scaler fitted
  on rows ``<= t``;
- the validation tail is the last share of those windows in time order, separated from the
  training part by ``horizon - 1`` windows so no target is shared;
- a forecast from origin ``s >= t`` reads input rows ``<= s`` only.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from regapps.shared.errors import DataError
from regapps.shared.regularizers import kernel_regularizer

from .config import TsConfig
from .features import Prepared, Scaler, first_window_end, targets, windows

if TYPE_CHECKING:  # pragma: no cover
    import keras

log = logging.getLogger(__name__)

MIN_TRAIN = 100  # training windows needed for a fit
MIN_VAL = 20  # validation windows needed for early stopping
PREDICT_BATCH = 2048


def build_lstm(lookback: int, n_features: int, config: TsConfig) -> keras.Model:
    """``layers`` LSTM layers (input dropout, recurrent dropout, L1/L2 kernel penalties from the
    toolkit) and a linear head of ``horizon`` returns. The head starts at zero: before training
    the model is the random walk, and the penalties pull it back toward it."""
    import keras

    m, reg = config.model, config.regularization
    if reg.batchnorm:
        log.warning("regularization.batchnorm is not used by the LSTM (dropout and L1/L2 are)")
    inputs = keras.Input(shape=(lookback, n_features), name="window")
    x = inputs
    for i in range(m.layers):
        x = keras.layers.LSTM(m.units, return_sequences=i < m.layers - 1, dropout=reg.dropout,
                              recurrent_dropout=m.recurrent_dropout,
                              kernel_regularizer=kernel_regularizer(reg.l1, reg.l2),
                              name=f"lstm{i + 1}")(x)
    outputs = keras.layers.Dense(m.horizon, kernel_initializer="zeros", dtype="float32",
                                 kernel_regularizer=kernel_regularizer(reg.l1, reg.l2),
                                 name="returns")(x)
    if m.linear_skip:  # LSTNet's autoregressive component: a linear model of the window
        flat = keras.layers.Flatten(name="window_flat")(inputs)
        linear = keras.layers.Dense(m.horizon, kernel_initializer="zeros", dtype="float32",
                                    name="linear_skip")(flat)
        outputs = keras.layers.Add(name="forecast")([outputs, linear])
    return keras.Model(inputs, outputs, name="stacked_lstm")


def _loss(name: str) -> Any:
    import keras

    return keras.losses.Huber(delta=1.0) if name == "huber" else name


def split_ends(prep: Prepared, origin: int, config: TsConfig) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation window ends for a fit at ``origin`` (time-ordered, purged)."""
    lookback, horizon = config.model.lookback, config.model.horizon
    ends = np.arange(first_window_end(prep, lookback), origin - horizon + 1)
    n_val = max(MIN_VAL, int(round(len(ends) * config.training.validation_split)))
    n_train = len(ends) - n_val - (horizon - 1)
    if n_train < MIN_TRAIN:
        raise DataError(f"too little history before {prep.stamp(origin)}: {len(ends)} "
                        f"windows of lookback {lookback} + horizon {horizon}, need at least "
                        f"{MIN_TRAIN + MIN_VAL + horizon - 1}; use a longer series, a smaller "
                        "--lookback or a smaller --test-size")
    return ends[:n_train], ends[len(ends) - n_val:]


@dataclass
class LstmForecaster:
    """Fit at one origin with :meth:`fit`, then :meth:`predict` returns (n, H) forecast changes
    of ``y`` (log returns) for later origins."""

    config: TsConfig
    verbose: int = 0
    model: Any = None
    scaler: Scaler | None = None
    alpha: float = 1.0
    info: dict[str, Any] = field(default_factory=dict)
    fit_result: Any = None
    scale_model: Any = None
    scale_result: Any = None
    val_z: np.ndarray | None = None  # validation residuals over their forecast scales (n_val, H)

    def fit(self, prep: Prepared, origin: int, *, run_dir: Path | None = None) -> dict[str, Any]:
        import tensorflow as tf
        from regapps.shared.distribute import training_scope
        from regapps.shared.training import fit, set_seed

        cfg = _board_per_refit(self.config, prep, origin) if run_dir is None else self.config
        lookback = cfg.model.lookback
        train_ends, val_ends = split_ends(prep, origin, cfg)
        self.scaler = Scaler.fit(prep, origin)
        scaled = self.scaler.features(prep)
        scale = self.scaler.target_scale
        x_tr, y_tr = windows(scaled, train_ends, lookback), self._targets(prep, train_ends) / scale
        x_va, y_va = windows(scaled, val_ends, lookback), self._targets(prep, val_ends) / scale
        seed = cfg.training.seed
        set_seed(seed)
        batch = cfg.training.batch_size
        train_ds = (tf.data.Dataset.from_tensor_slices((x_tr, y_tr.astype(np.float32)))
                    .shuffle(len(x_tr), seed=seed, reshuffle_each_iteration=True).batch(batch))
        ridge: dict[str, Any] = {}
        with training_scope(cfg.training):
            self.model = build_lstm(lookback, scaled.shape[1], cfg)
            if cfg.model.linear_skip:
                ridge = warm_start_linear(self.model, x_tr, y_tr)
            self.fit_result = fit(self.model, train_ds, (x_va, y_va.astype(np.float32)), config=cfg,
                                  steps_per_epoch=-(-len(x_tr) // batch), loss=_loss(cfg.model.loss),
                                  metrics=["mae"], run_dir=run_dir, verbose=self.verbose)
        p_va = self._raw(x_va)
        self.alpha = shrink_factor(p_va, y_va) if cfg.model.shrink else 1.0
        if cfg.model.risk:
            self._fit_scale(cfg, (x_tr, y_tr), (x_va, y_va), scaled.shape[1])
        self.info = {"origin": prep.stamp(origin), "n_train": int(len(train_ends)),
                     "n_validation": int(len(val_ends)), "alpha": round(self.alpha, 4),
                     **ridge,
                     **self.fit_result.summary()}
        log.info("fit at %s: %d+%d windows, %d epochs (best %d), shrink %.2f, %.0f s",
                 self.info["origin"], len(train_ends), len(val_ends),
                 self.fit_result.epochs_run, self.fit_result.best_epoch, self.alpha,
                 self.fit_result.seconds)
        return self.info

    def _cumulative(self, steps_or_path: np.ndarray) -> np.ndarray:
        return steps_or_path if self.config.model.cumulative else np.cumsum(steps_or_path, axis=1)

    def _fit_scale(self, cfg: TsConfig, train: tuple[np.ndarray, np.ndarray],
                   val: tuple[np.ndarray, np.ndarray], n_features: int) -> None:
        """The scale network, trained by likelihood on the (shrunk) point model's residuals of
        the cumulative change to each step, on the same windows and validation tail."""
        import tensorflow as tf
        from regapps.shared.distribute import training_scope
        from regapps.shared.training import fit, set_seed

        from .risk import build_scale_net, gaussian_nll

        (x_tr, y_tr), (x_va, y_va) = train, val
        e_tr = self._cumulative(y_tr) - self.alpha * self._cumulative(self._raw(x_tr))
        e_va = self._cumulative(y_va) - self.alpha * self._cumulative(self._raw(x_va))
        start = np.log(np.maximum(np.sqrt(np.mean(e_tr ** 2, axis=0)), 1e-6))
        risk_cfg = cfg.with_training(monitor="val_loss", tensorboard=False)
        seed = cfg.training.seed + 1
        set_seed(seed)
        batch = cfg.training.batch_size
        ds = (tf.data.Dataset.from_tensor_slices((x_tr, e_tr.astype(np.float32)))
              .shuffle(len(x_tr), seed=seed, reshuffle_each_iteration=True).batch(batch))
        with training_scope(cfg.training):
            self.scale_model = build_scale_net(cfg.model.lookback, n_features, cfg, start)
            self.scale_result = fit(self.scale_model, ds, (x_va, e_va.astype(np.float32)), config=risk_cfg,
                                    steps_per_epoch=-(-len(x_tr) // batch), loss=gaussian_nll,
                                    metrics=[], verbose=self.verbose)
        # residuals of the validation tail over the scales forecast for them: the shape of the
        # standardized distribution before any walk-forward residual exists
        self.val_z = e_va / self._scale_raw(x_va)

    def _scale_raw(self, x: np.ndarray) -> np.ndarray:
        from .risk import LOG_SCALE_FLOOR

        out = np.asarray(self.scale_model.predict(x, batch_size=PREDICT_BATCH, verbose=0), dtype=np.float64)
        return np.exp(np.maximum(out, LOG_SCALE_FLOOR))

    def predict_scale(self, prep: Prepared, origins: np.ndarray) -> np.ndarray:
        """The scale (n, H) of the cumulative change of ``y`` to each step from each origin."""
        if self.scale_model is None or self.scaler is None:
            raise RuntimeError("fit the forecaster with model.risk first")
        x = windows(self.scaler.features(prep), origins, self.config.model.lookback)
        return self._scale_raw(x) * self.scaler.target_scale

    def _targets(self, prep: Prepared, ends: np.ndarray) -> np.ndarray:
        """What the network learns: the change to each horizon step (cumulative) or each step's."""
        steps = targets(prep.ret, ends, self.config.model.horizon)
        return np.cumsum(steps, axis=1) if self.config.model.cumulative else steps

    def _raw(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(x, batch_size=PREDICT_BATCH, verbose=0), dtype=np.float64)

    def predict(self, prep: Prepared, origins: np.ndarray) -> np.ndarray:
        """Forecast one-step changes (n, H) of ``y`` from each origin."""
        if self.model is None or self.scaler is None:
            raise RuntimeError("fit the forecaster first")
        x = windows(self.scaler.features(prep), origins, self.config.model.lookback)
        out = self._raw(x) * self.alpha * self.scaler.target_scale
        return np.diff(out, axis=1, prepend=0.0) if self.config.model.cumulative else out


RIDGE_ALPHAS = np.logspace(-3, 5, 17)


def warm_start_linear(model: keras.Model, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Start the linear path at the ridge regression of the targets on the flattened training
    windows (penalty by efficient leave-one-out over ``RIDGE_ALPHAS``), so Adam starts from the
    best linear autoregression instead of having to find it: a near-deterministic cycle needs
    precise coefficients that a few hundred Adam steps from zero never reach."""
    from sklearn.linear_model import RidgeCV

    flat = x.reshape(len(x), -1).astype(np.float64)
    ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(flat, y)
    coef = np.atleast_2d(ridge.coef_)  # (H, L*F)
    layer = model.get_layer("linear_skip")
    layer.set_weights([coef.T.astype(np.float32), np.atleast_1d(ridge.intercept_).astype(np.float32)])
    return {"ridge_alpha": float(ridge.alpha_)}


def shrink_factor(pred: np.ndarray, actual: np.ndarray) -> float:
    """Weight ``a`` in [0, 1] of the network against the random walk (0), from the validation
    tail: the least-squares slope ``b`` of ``actual ~ b * pred``, times ``(1 - 4 / t^2)+`` with
    ``t`` its t-statistic, so a slope within 2 standard errors of zero gives the random walk.
    A network without convincing skill on held-out recent data is not allowed to add noise."""
    p, y = pred.ravel(), actual.ravel()
    denom = float(np.dot(p, p))
    if len(p) < 3 or denom <= 0 or not np.isfinite(denom):
        return 0.0
    slope = float(np.dot(p, y)) / denom
    resid = y - slope * p
    se = float(np.sqrt(np.dot(resid, resid) / (len(p) - 1) / denom))
    if slope <= 0 or se <= 0:
        return float(np.clip(slope, 0.0, 1.0)) if se <= 0 else 0.0
    gate = max(0.0, 1.0 - 4.0 / (slope / se) ** 2)
    return float(np.clip(slope * gate, 0.0, 1.0))


def _board_per_refit(config: TsConfig, prep: Prepared, origin: int) -> TsConfig:
    """With ``--tensorboard``, each walk-forward refit logs to its own ``refit-<origin date>``
    folder under ``training.tensorboard_dir``."""
    t = config.training
    if not (t.tensorboard and t.tensorboard_dir):
        return config
    board = str(Path(t.tensorboard_dir) / f"refit-{prep.stamp(origin).replace(' ', 'T').replace(':', '')}")
    return config.with_training(tensorboard_dir=board)
