"""The LSTMs that ``ts forecast`` saves (the point forecaster and its scale network) load in a
fresh process and predict what they predicted in the process that trained them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from .synth import ar1_returns, price_frame, write_csv
from .test_ts_cli import FAST

LOAD_AND_PREDICT = """
import json, sys
import numpy as np
from pathlib import Path
from regapps.shared.modelio import load_model
model = load_model(Path(sys.argv[1]))
probe = np.load(sys.argv[2])
print(json.dumps(np.asarray(model.predict(probe, verbose=0), dtype=np.float64).tolist()))
"""


@pytest.mark.slow
def test_the_saved_forecaster_predicts_the_same_in_a_new_process(cli: Any, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from regapps.apps.ts import task

    saved: list[Any] = []
    real_save = task.save_model
    monkeypatch.setattr(task, "save_model", lambda model, path: (saved.append(model), real_save(model, path))[1])
    csv = write_csv(tmp_path / "ar1.csv", price_frame(ar1_returns(700, 0.5, seed=7), ohlcv=True))
    result = cli("ts", "forecast", "--csv", str(csv), "--horizon", "3", "--test-size", "60",
                 "--refit-every", "60", *FAST, "--runs-dir", str(tmp_path / "runs"), "--json")
    assert result.code == 0, result.stderr
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    assert len(saved) == 2
    for model, name in zip(saved, ("model.keras", "scale_model.keras"), strict=True):
        shape = [32 if d is None else d for d in model.input_shape]
        probe = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        np.save(tmp_path / "probe.npy", probe)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        done = subprocess.run([sys.executable, "-c", LOAD_AND_PREDICT, str(run_dir / name), str(tmp_path / "probe.npy")],
                              capture_output=True, text=True, env=env, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        want = np.asarray(model.predict(probe, verbose=0), dtype=np.float64)
        np.testing.assert_allclose(json.loads(done.stdout.strip().splitlines()[-1]), want, atol=1e-6)
        assert want.std() > 0, name  # a real forecaster, not a constant
