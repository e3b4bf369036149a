"""--strategy and --precision: TF_CONFIG checks, float16 refused without a GPU, bfloat16 layers
with float32 outputs, and two worker processes on loopback training one model together."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from regapps.shared.distribute import parse_tf_config
from regapps.shared.errors import ConfigError

from ..helpers import assert_one_error, main_json

CLI = "from regapps.apps.cli import main; main()"


@pytest.mark.parametrize("raw, fragment", [
    (None, "TF_CONFIG, which is not set"),
    ("{not json", "TF_CONFIG is not valid JSON"),
    ('{"task": {"type": "worker", "index": 0}}', 'needs a "cluster"'),
    ('{"cluster": {"worker": ["127.0.0.1"]}, "task": {"type": "worker"}}', '"host:port" addresses'),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "ps", "index": 0}}', '"type" is one of: worker'),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 1}}', "index 1 is outside"),
])
def test_tf_config_errors(raw: str | None, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_tf_config(raw)


def test_tf_config_accepted() -> None:
    tree = parse_tf_config('{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, '
                           '"task": {"type": "worker", "index": 1}}')
    assert tree["task"]["index"] == 1


def test_multiworker_without_tf_config_exits_2(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TF_CONFIG", raising=False)
    result = cli("image", "train", "--dataset", "digits", "--strategy", "multiworker",
                 "--runs-dir", str(tmp_path))
    assert_one_error(result, "TF_CONFIG")
    assert not any(tmp_path.iterdir())


def test_unknown_strategy_and_precision(cli: Any, tmp_path: Path) -> None:
    assert_one_error(cli("image", "train", "--strategy", "tpu", "--runs-dir", str(tmp_path)),
                     "training.strategy='tpu'")
    assert_one_error(cli("image", "train", "--precision", "float8", "--runs-dir", str(tmp_path)),
                     "training.precision='float8'")


def test_cv_refuses_multiworker(cli: Any, tmp_path: Path) -> None:
    result = cli("image", "cv", "--dataset", "digits", "--grid", "l2=0,1e-3",
                 "--set", "training.strategy=multiworker", "--runs-dir", str(tmp_path))
    assert_one_error(result, "multiworker is for train")


def test_mixed_float16_refused_without_gpu(cli: Any, tmp_path: Path) -> None:
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU is visible: mixed_float16 is allowed")
    result = cli("image", "train", "--dataset", "digits", "--precision", "mixed_float16",
                 "--runs-dir", str(tmp_path))
    assert_one_error(result, "mixed_float16 needs a GPU", "mixed_bfloat16")
    assert not any(tmp_path.iterdir())


def test_mixed_bfloat16_layers_and_float32_outputs(tmp_path: Path) -> None:
    import keras
    from regapps.shared.modelio import load_model

    result = main_json("image", "train", "--dataset", "digits", "--epochs", "3", "--precision",
                       "mixed_bfloat16", "--strategy", "mirrored", "--runs-dir", str(tmp_path), "--json")
    model = load_model(Path(result["run_dir"]) / "model.keras")
    policies = {layer.name: layer.dtype_policy.name for layer in model.layers if layer.weights}
    assert policies.pop("output") == "float32"  # softmax in float32
    assert set(policies.values()) == {"mixed_bfloat16"}
    assert keras.config.dtype_policy().name == "float32"  # the process's policy is back
    assert result["metrics"]["validation"]["accuracy"] > 0.5  # 10 classes: chance is 0.1


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _train(runs: Path, extra: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    args = ["image", "train", "--dataset", "digits", "--epochs", "5", "--seed", "4",
            "--no-early-stopping", "--runs-dir", str(runs), "--json", *extra]
    return subprocess.Popen([sys.executable, "-c", CLI, *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_two_workers_train_one_model(tmp_path: Path) -> None:
    from regapps.shared.modelio import load_model

    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    procs = [_train(tmp_path / f"w{i}", ["--strategy", "multiworker"],
                    {**env, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})})
             for i in range(2)]
    procs.append(_train(tmp_path / "single", [], env))
    outs = [p.communicate(timeout=240) for p in procs]
    for proc, (_, err) in zip(procs, outs):
        assert proc.returncode == 0, err[-3000:]
    results = [json.loads(out) for out, _ in outs]
    models = [load_model(Path(r["run_dir"]) / "model.keras") for r in results]
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_array_equal(a, b)  # all-reduced updates: bit-identical replicas
    assert any(not np.array_equal(a, b) for a, b in zip(models[0].get_weights(), models[2].get_weights()))
    worker, single = (r["metrics"]["test"]["accuracy"] for r in (results[0], results[2]))
    assert results[1]["metrics"]["test"]["accuracy"] == worker
    assert worker > 0.7 and single > 0.7
    assert abs(worker - single) < 0.1  # the same global batch and data order as one process


def test_auto_precision_follows_the_hardware(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from regapps.shared import distribute

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16 avx512_vnni\n")
    assert distribute.cpu_flags(str(cpuinfo)) >= {"avx512_bf16", "avx512f"}
    assert distribute.cpu_flags(str(tmp_path / "missing")) == set()
    for native, expected in [(True, "mixed_bfloat16"), (False, "float32")]:
        monkeypatch.setattr(distribute, "native_bfloat16", lambda native=native: native)
        assert distribute.resolve_precision("auto") == expected
        assert distribute.resolve_precision("float32") == "float32"
        assert distribute.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"


def test_auto_precision_is_recorded_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from regapps.shared import distribute

    monkeypatch.setattr(distribute, "native_bfloat16", lambda: True)
    result = main_json("image", "train", "--dataset", "digits", "--epochs", "2", "--precision", "auto",
                       "--runs-dir", str(tmp_path), "--json")
    assert result["metrics"]["training"]["precision"] == "mixed_bfloat16"
    config = json.loads((Path(result["run_dir"]) / "config.json").read_text())
    assert config["training"]["precision"] == "auto"
