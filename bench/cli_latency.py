"""``regapps --help`` wall time against ``python -c "import tensorflow"``: the CLI must not pay
for TensorFlow before it trains. Alternating runs; medians and the ratio (target <= 0.15).

    python bench/cli_latency.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import print_table  # noqa: E402


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    regapps = shutil.which("regapps") or "regapps"
    commands = {
        "regapps --help": [regapps, "--help"],
        "regapps image train --help": [regapps, "image", "train", "--help"],
        "import tensorflow": [sys.executable, "-c", "import tensorflow"],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    for name, cmd in commands.items():  # warm the file cache once
        wall(cmd)
    for _ in range(args.repeats):
        for name, cmd in commands.items():
            times[name].append(wall(cmd))
    base = statistics.median(times["import tensorflow"])
    rows = [{"command": k, "median s": statistics.median(v), "ratio to TF import": statistics.median(v) / base}
            for k, v in times.items()]
    print_table(rows, ["command", "median s", "ratio to TF import"])
    print(f"\nregapps --help / import tensorflow: {rows[0]['ratio to TF import']:.3f} (target <= 0.15)")


if __name__ == "__main__":
    main()
