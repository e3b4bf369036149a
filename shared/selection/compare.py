"""Side-by-side comparison of optimizers, regularizers, or the values of one setting (an
ablation: ``--ablate model.nb_weighting=true,false``): the same data split, epoch budget and
seed for each variant; overlaid learning curves; final and best validation metric, epochs to
best and wall time; the same report format as cv."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import plots
from ..config import ExperimentConfig, build_config, parse_value
from ..errors import ConfigError, ParameterError
from ..optimizers import OPTIMIZERS
from ..report import Report
from ..runs import Run
from .protocols import CVTask

REGULARIZER_VARIANTS = ("none", "l1", "l2", "l1l2", "dropout", "batchnorm", "early_stopping")
_OFF = {"regularization.l1": 0.0, "regularization.l2": 0.0, "regularization.dropout": 0.0,
        "regularization.batchnorm": False, "training.early_stopping": False}


def variants(kind: str, names: list[str], base: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Flags per variant. Regularizer variants switch everything else off, so each shows its own
    effect; amounts come from the base config when set there, else common defaults."""
    if not names:
        raise ParameterError(kind, "{param} needs at least one name")
    if len(set(names)) != len(names):
        raise ParameterError(kind, "{param} lists a name twice")
    if kind == "optimizers":
        for name in names:
            OPTIMIZERS.check(name)
        return {n: {"optimizer.name": n} for n in names}
    if kind == "settings":  # an ablation: one setting's values, everything else as configured
        return {n: dict(settings_variant(n)) for n in names}
    reg = base.get("regularization", {})
    l1, l2 = reg.get("l1") or 1e-4, reg.get("l2") or 1e-3
    dropout = reg.get("dropout") or 0.5
    table: dict[str, dict[str, Any]] = {
        "none": {}, "l1": {"regularization.l1": l1}, "l2": {"regularization.l2": l2},
        "l1l2": {"regularization.l1": l1, "regularization.l2": l2},
        "dropout": {"regularization.dropout": dropout}, "batchnorm": {"regularization.batchnorm": True},
        "early_stopping": {"training.early_stopping": True},
    }
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ConfigError(f"unknown regularizer {unknown[0]!r}; valid: {', '.join(REGULARIZER_VARIANTS)}")
    return {n: {**_OFF, **table[n]} for n in names}


def settings_variant(name: str) -> list[tuple[str, Any]]:
    """``"model.nb_weighting=false"`` -> ``[("model.nb_weighting", False)]`` (keys or aliases,
    as ``--grid`` takes them)."""
    from .space import canonical_key

    key, sep, raw = name.partition("=")
    if not sep or not key.strip() or not raw.strip():
        raise ParameterError("names", "{param}: a settings variant is key=value, got {name!r}", name=name)
    return [(canonical_key(key.strip()), parse_value(raw.strip()))]


def ablation_names(spec: str) -> list[str]:
    """``--ablate key=v1,v2`` -> the variants ``key=v1`` and ``key=v2``."""
    key, sep, raw = spec.partition("=")
    values = [v.strip() for v in raw.split(",") if v.strip()]
    if not sep or not key.strip() or not values:
        raise ParameterError("ablate", "{param} expects key=v1,v2,..., got {spec!r}", spec=spec)
    twice = next((v for i, v in enumerate(values) if v in values[:i]), None)
    if twice is not None:
        raise ParameterError("ablate", "{param} lists {value} twice", value=twice)
    return [f"{key.strip()}={v}" for v in values]


@dataclass
class CompareResult:
    """What a comparison returns; :meth:`to_dict` is ``metrics.json`` and the CLI's ``--json``.
    ``results``: one row per variant, as in ``comparison.csv``."""

    run_dir: Path
    metric: str
    results: list[dict[str, Any]]
    winner: str  # the variant with the best validation score

    def to_dict(self) -> dict[str, Any]:
        return {"run_dir": str(self.run_dir), "metric": self.metric, "results": self.results, "winner": self.winner}


def run_compare(app: str, cls: type[ExperimentConfig], task: CVTask, base: Mapping[str, Any],
                kind: str, names: list[str], *, runs_dir: Path = Path("runs"),
                name: str | None = None, data_source: str = "") -> CompareResult:
    flags_by_variant = variants(kind, names, base)
    configs = {n: build_config(cls, base=base, flags=f) for n, f in flags_by_variant.items()}
    first = next(iter(configs.values())).training
    folds = max(2, round(1 / first.validation_split))
    train_idx, val_idx = task.splits(folds, first.seed)[-1]
    run = Run.create(runs_dir, app, "compare", name or f"compare-{kind}")
    with run.guard():
        run.write_json("config.json", {"base": dict(base), "kind": kind, "variants": flags_by_variant})
        rows: list[dict[str, Any]] = []
        histories: dict[str, dict[str, list[Any]]] = {}
        metric = task.metric
        curve = metric  # the per-epoch curve compared: the task's metric if Keras logs it, else loss
        for variant, config in configs.items():
            if config.training.tensorboard:  # one TensorBoard folder per variant
                config = build_config(cls, base=base, flags={
                    **flags_by_variant[variant], "training.tensorboard_dir": str(run.file("tensorboard") / variant)})
            trial = task.start(config, train_idx, val_idx).advance(config.training.epochs)
            task.release()  # each variant compiles its own model, so wall times compare
            history = trial.history or {}
            histories[variant] = history
            if f"val_{curve}" not in history:
                curve = "loss"
            series = [v for v in history.get(f"val_{curve}", []) if v is not None]
            higher = task.greater_is_better and curve == metric
            best = (max if higher else min)(series) if series else math.nan
            rows.append({"variant": variant, "curve": f"val_{curve}",
                         "final": series[-1] if series else math.nan, "best": best,
                         "epochs_to_best": (series.index(best) + 1) if series else None,
                         "epochs_run": trial.epochs_run, "score": trial.score,
                         "seconds": round(trial.seconds, 2)})
            run.write_csv("comparison.csv", rows)
        plots.overlaid_curves(histories, "loss", run.file("curves_loss.png"), f"{kind}: loss")
        images = [("Loss per epoch (solid: train, dashed: validation)", "curves_loss.png")]
        if metric != "loss" and any(f"val_{metric}" in h for h in histories.values()):
            plots.overlaid_curves(histories, metric, run.file(f"curves_{metric}.png"), f"{kind}: {metric}")
            images.append((f"{metric} per epoch (solid: train, dashed: validation)", f"curves_{metric}.png"))
        sign = -1.0 if task.greater_is_better else 1.0
        ranked = sorted(rows, key=lambda r: sign * float(r["score"]))
        rep = Report(f"{app} compare: {kind}")
        rep.section("Summary").text(
            f"{len(rows)} variants on {data_source or 'the training data'}, one train/validation split, "
            f"seed {first.seed}, up to {first.epochs} epochs each"
            + (f", learning rate {configs[names[0]].optimizer.learning_rate:g} for every optimizer"
               if kind == "optimizers" else "")
            + f". 'final' and 'best' read the per-epoch {rows[0]['curve']} curve; 'score' is the "
            f"validation {metric} of the weights kept at the end (the best epoch's when restore_best "
            f"is on). Best by score: {ranked[0]['variant']}.")
        rep.section("Results").table(rows, ["variant", "curve", "final", "best", "epochs_to_best",
                                            "epochs_run", "score", "seconds"])
        rep.section("Learning curves")
        for title, file in images:
            rep.image(file, title)
        rep.write(run.path)
        result = CompareResult(run.path, metric, rows, str(ranked[0]["variant"]))
        run.write_json("metrics.json", result.to_dict())
        run.complete()
    return result
