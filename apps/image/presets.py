"""What `regapps image presets` lists: each preset's model, the settings it brings, and the
figures recorded for it on real CIFAR-10 (by the named benchmark; docs/benchmarks.md has the
tables), each with the machine it was measured on: these CPUs run the same network up to 5x
apart, so a figure holds for its machine only. The figures are records of measured runs, not
claims computed here."""
from __future__ import annotations

from typing import Any

from regapps.shared.report import flatten

from .config import PRESET_DEFAULTS
from .model import PRESETS

# "held out" = training images that nothing trained, selected or stopped on. Update with the
# benchmark that produced them, naming the machine (CPU, cores, SIMD flags that matter).
AVX512_BF16 = "2-core CPU with AVX-512 and AVX512-BF16 (bfloat16 native)"
AVX2 = "AMD EPYC, 2 cores, AVX2 + FMA, no AVX-512 (float32)"
AVX512_BF16_FAST = ("AMD EPYC, 2 cores, AVX-512 + AVX512-BF16 (bfloat16 native); the article CNN's epoch "
                    "in 6 s, about twice as fast as the other AVX512-BF16 machine")
RECORDED: dict[str, list[dict[str, str]]] = {
    "article": [
        {"figure": "73.00% held-out accuracy after its 50 epochs: 285 s and 317 s of training in two runs",
         "source": "bench/image_fast.py --budgets 10 and --budgets article, quiet, 2026-12-04 (evening)",
         "machine": AVX512_BF16_FAST},
        {"figure": "65.12% held-out accuracy after 292 s (9 epochs); 69.46% after 586 s (18 epochs); "
                   "71.36% after 870 s (28 epochs)",
         "source": "bench/image_fast.py --budgets 5, 10 and 15, quiet, 2026-12-04", "machine": AVX2},
        {"figure": "72.74% held-out accuracy after 448 s of training (42 epochs; 45,000 trained, 5,000 held out)",
         "source": "bench/image_fast.py --budget 7.5, quiet, 2026-11-27", "machine": AVX512_BF16},
        {"figure": "73.33% held-out accuracy (10,000 held out, 50 epochs)",
         "source": "bench/image_accuracy.py (loaded machine, 1247 s of training)", "machine": AVX512_BF16},
        {"figure": "4485 training samples/s, peak memory 1118 MiB",
         "source": "bench/image_throughput.py", "machine": AVX512_BF16},
    ],
    "fast": [
        {"figure": "91.34% held-out accuracy in the article CNN's own 50-epoch time, 5.28 minutes (plan: width 16, "
                   "16 epochs, bfloat16; whitening, flip + translate averaging; +18.3 points over the article CNN)",
         "source": "bench/image_fast.py --budgets article, quiet, 2026-12-04 (evening)", "machine": AVX512_BF16_FAST},
        {"figure": "92.86% held-out accuracy in a 10-minute budget with today's defaults (whitening, flip + "
                   "translate averaging; plan: width 24, 20 epochs; 92.36% with flip averaging only); without "
                   "whitening 91.46% (16 epochs); +19.4 points over the article CNN",
         "source": "bench/image_fast.py --runs \"article,fast,fast + whitening\" --budgets 10, quiet, "
                   "2026-12-04 (evening)", "machine": AVX512_BF16_FAST},
        {"figure": "77.82% held-out accuracy in a 5-minute budget (plan: width 8, 4 epochs; +12.7 points "
                   "over the article CNN); 83.46% in 10 minutes (width 8, 8 epochs; +14.0); 84.94% in 15 "
                   "minutes (width 8, 11 epochs; +13.6)",
         "source": "bench/image_fast.py --budgets 5, 10 and 15, quiet, 2026-12-04", "machine": AVX2},
        {"figure": "89.10% held-out accuracy after 450 s of training (13 epochs, bfloat16; 88.58% "
                   "without flip averaging); target 87%",
         "source": "bench/image_fast.py --budget 7.5, quiet, 2026-11-27", "machine": AVX512_BF16},
        {"figure": "91.82% held-out accuracy after 888 s of training (23 epochs, bfloat16; 90.62% "
                   "without flip averaging); target 90%",
         "source": "bench/image_fast.py --runs fast --budget 15, quiet, 2026-11-27", "machine": AVX512_BF16},
    ],
}


def describe_presets() -> list[dict[str, Any]]:
    models = PRESETS.describe()
    return [{"name": name, "model": models.get(name, ""), "settings": flatten(PRESET_DEFAULTS.get(name, {})),
             "recorded": RECORDED.get(name, [])} for name in PRESETS.names()]

