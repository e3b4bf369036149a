"""Scale forecasts for the distribution of the next ``horizon`` changes of ``y``: the LSTM's
(trained by Gaussian likelihood on the point model's residuals), GARCH(1,1) (the ``arch``
package, refitted at each refit origin), and, for the plain baseline, none at all (historical
quantiles of past changes, :mod:`.probabilistic`).

Every scale is that of the *cumulative* change to each step ``k``: ``(n, H)``, known at the
origin. Leakage rules as for the point model: a fit at origin ``t`` reads rows ``<= t``; a
forecast from origin ``s`` reads rows ``<= s``.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .features import Prepared

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from .config import TsConfig

log = logging.getLogger(__name__)

LOG_SCALE_FLOOR = -12.0  # exp(-12) of the target scale: a floor that keeps the likelihood finite


def build_scale_net(lookback: int, n_features: int, config: TsConfig, start_log_scale: np.ndarray) -> keras.Model:
    """One LSTM layer (the toolkit's dropout and L1/L2) and a linear head of ``horizon`` log
    scales. The head starts at the constant scale of the training residuals (its bias) with a
    zero kernel, so before training it is the unconditional model. (Measured on AAPL, MSFT and
    SPY: starting from the EWMA or GARCH scale as a base to correct scored worse.)"""
    import keras
    from regapps.shared.regularizers import kernel_regularizer

    m, reg = config.model, config.regularization
    inputs = keras.Input(shape=(lookback, n_features), name="window")
    x = keras.layers.LSTM(m.units, dropout=reg.dropout, recurrent_dropout=m.recurrent_dropout,
                          kernel_regularizer=kernel_regularizer(reg.l1, reg.l2), name="risk_lstm")(inputs)
    out = keras.layers.Dense(m.horizon, kernel_initializer="zeros",
                             bias_initializer=keras.initializers.Constant(start_log_scale.astype(np.float32)),
                             kernel_regularizer=kernel_regularizer(reg.l1, reg.l2), dtype="float32",
                             name="log_scale")(x)
    return keras.Model(inputs, out, name="lstm_scale")


def gaussian_nll(residual: Any, log_scale: Any) -> Any:
    """Negative Gaussian log-likelihood (less a constant) of ``residual`` with scale
    ``exp(log_scale)``, averaged over the horizon steps."""
    import keras

    s = keras.ops.maximum(log_scale, LOG_SCALE_FLOOR)
    return keras.ops.mean(s + 0.5 * keras.ops.square(residual) * keras.ops.exp(-2.0 * s), axis=-1)


@dataclass
class GarchScale:
    """GARCH(1,1) with Student-t innovations on the one-step changes, fitted by maximum likelihood
    (``arch``) on the changes up to the fit origin; later origins filter the conditional
    variance forward with the fitted parameters, reading only changes up to themselves."""

    omega: float = 0.0
    alpha: float = 0.0
    beta: float = 0.0
    nu: float = 30.0
    mean: float = 0.0
    scale: float = 1.0  # changes are divided by this before fitting (arch likes values near 1)

    def fit(self, prep: Prepared, origin: int) -> dict[str, Any]:
        from arch import arch_model

        ret = prep.ret[1:origin + 1]
        self.scale = float(np.std(ret)) or 1.0
        result = arch_model(ret / self.scale, mean="Constant", vol="GARCH", p=1, q=1, dist="t",
                            rescale=False).fit(disp="off", show_warning=False)
        p = result.params
        self.mean, self.omega = float(p["mu"]), float(p["omega"])
        self.alpha, self.beta, self.nu = float(p["alpha[1]"]), float(p["beta[1]"]), float(p["nu"])
        return {"omega": self.omega, "alpha": self.alpha, "beta": self.beta, "nu": self.nu}

    def variance_path(self, prep: Prepared, last: int) -> np.ndarray:
        """One-step conditional variances ``h[t]`` of the change at ``t + 1`` given rows ``<= t``,
        for ``t`` up to ``last`` (standardized units)."""
        e = (prep.ret[1:last + 1] - self.mean * self.scale) / self.scale
        h = np.empty(last + 1)
        h[0] = float(np.var(e[:min(len(e), 75)])) if len(e) else 1.0  # arch's backcast length
        for t in range(1, last + 1):
            h[t] = self.omega + self.alpha * e[t - 1] ** 2 + self.beta * h[t - 1]
        return h

    def scales(self, prep: Prepared, origins: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Centre shift (the fitted mean, accumulated) and the scale of the cumulative change to
        each step, ``(n, H)`` each, in units of ``y``."""
        h1 = self.variance_path(prep, int(origins.max()))[origins]
        persistence = self.alpha + self.beta
        steps = np.arange(horizon)
        if persistence < 1:
            long_run = self.omega / (1 - persistence)
            per_step = long_run + persistence ** steps[None, :] * (h1[:, None] - long_run)
        else:
            per_step = np.repeat(h1[:, None], horizon, axis=1) + self.omega * steps[None, :]
        cumulative = np.cumsum(per_step, axis=1)
        shift = self.mean * self.scale * (steps + 1)[None, :].repeat(len(origins), axis=0)
        return shift, np.sqrt(cumulative) * self.scale

    def standard_quantiles(self, taus: np.ndarray) -> np.ndarray:
        """Quantiles of the unit-variance Student t with the fitted degrees of freedom."""
        from scipy.stats import t as student_t

        nu = max(self.nu, 2.05)
        return np.asarray(student_t.ppf(taus, nu) * math.sqrt((nu - 2) / nu))
