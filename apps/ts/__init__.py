"""Time-series app: stock-price forecasting with an LSTM, walk-forward backtests, baselines."""
