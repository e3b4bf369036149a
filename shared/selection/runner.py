"""A cross-validation run: run directory, resume, search, summary, best config, plots, refit
of the winner on all training data (the one time the test split is touched), and the report."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import plots
from ..config import ExperimentConfig, build_config, shape_of, write_config_file
from ..errors import ConfigError, ParameterError, RunDirError, RunParameterError
from ..report import Report, metrics_rows
from ..runs import COMPLETED, Run
from .protocols import CVTask, Executor, OnTrial, Progress
from .search import SearchPlan, Summary, run_search, summarize
from .space import validate_space
from .trials import TrialStore

log = logging.getLogger(__name__)

Refit = Callable[[ExperimentConfig, Path], dict[str, Any]]


@dataclass
class CVSpec:
    """What an app hands the runner."""

    app: str
    config_cls: type[ExperimentConfig]
    task: CVTask
    refit: Refit  # trains the winner on all training data under the given folder; scores test once
    data_source: str = ""


@dataclass
class Best:
    """The winner by mean cv ``metric``: its parameters, mean score and 95% CI (low, high)."""

    params: dict[str, Any]
    score: float
    metric: str
    ci95: list[float]


@dataclass
class CVResult:
    """What a cv run returns; :meth:`to_dict` is ``cv_summary.json`` and the CLI's ``--json``."""

    run_dir: Path
    best: Best
    test: dict[str, Any] | None  # the refitted winner's test metrics
    refit_run_dir: str | None  # as the refit reported it
    seed_note: str

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {"run_dir": str(self.run_dir),
                "best": {"params": best.params, "score": best.score, "metric": best.metric, "ci95": best.ci95},
                "test": self.test, "refit_run_dir": self.refit_run_dir, "seed_note": self.seed_note}


def _unfinished_cv_run(run_dir: Path, app: str | None) -> Run:
    """The cv run of ``app`` at ``run_dir``, refused unless it is one and is not finished."""
    run = Run.open(run_dir, app=app, require=None)
    if run.command != "cv" or not run.file("search.json").is_file():
        raise RunDirError(f"{run_dir} is not a cv run")
    if run.status().get("status") == COMPLETED:
        raise RunDirError(f"{run_dir} is already finished; nothing to resume")
    return run


def saved_search(run_dir: Path, cls: type[ExperimentConfig], app: str | None = None) -> tuple[dict[str, Any], SearchPlan]:
    """The base config and plan an unfinished cv run of ``app`` (configured by ``cls``) was made
    with, to resume it as it was."""
    run = _unfinished_cv_run(run_dir, app)
    try:
        saved = json.loads(run.file("search.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunDirError(f"{run_dir} is not a cv run (no readable search.json)") from exc
    where = run.file("search.json")
    if not isinstance(saved, dict) or not isinstance(saved.get("base"), dict) or not isinstance(saved.get("plan"), dict):
        raise RunDirError(f"{where}: expected a mapping with 'base' and 'plan' mappings (it does not "
                          "fit this version of regapps)")
    base = dict(saved["base"])
    try:
        config = cls.from_saved({k: v for k, v in base.items() if k != "search"}, source=str(where))
        if not isinstance(base.get("training"), dict):
            raise ConfigError(f"{where} does not fit this version of regapps: base.training: missing")
        plan = checked_plan(saved["plan"], where)
        validate_space(cls, config.to_dict(), plan.space, f"{where}: plan.space")
    except ConfigError as exc:
        raise RunDirError(str(exc)) from exc
    return base, plan


_PLAN_FIELDS = {"space": dict, "candidates": list, "search": str, "folds": int, "seeds": list,
                "max_epochs": int, "eta": int}
_KINDS = {dict: "a mapping", list: "a list", str: "a string", int: "an integer"}


def checked_plan(saved: Mapping[str, Any], where: Path) -> SearchPlan:
    """The search plan a cv run saved, each value of the shape this version writes."""
    def bad(key: str, allowed: str) -> ConfigError:
        return ConfigError(f"{where} does not fit this version of regapps: plan.{key}: expected {allowed}")

    unknown = sorted(set(saved) - set(_PLAN_FIELDS))
    if unknown:
        raise bad(unknown[0], "no such key (allowed: " + ", ".join(_PLAN_FIELDS) + ")")
    saved = {"eta": 3, **saved}  # SearchPlan's default, for a plan saved without it
    for key, kind in _PLAN_FIELDS.items():
        value = saved.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise bad(key, f"{_KINDS[kind]}, not {shape_of(value)}")
    space, candidates = saved["space"], saved["candidates"]
    if not space or not all(isinstance(v, list) and v for v in space.values()):
        raise bad("space", "a mapping of keys to non-empty lists of values")
    if not candidates or not all(isinstance(c, dict) and set(c) == set(space)
                                 and all(c[k] in space[k] for k in space) for c in candidates):
        raise bad("candidates", "a list of candidates, each a value from the space for every key")
    if saved["search"] not in SEARCHES:
        raise bad("search", "one of " + ", ".join(SEARCHES))
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in saved["seeds"]) or not saved["seeds"]:
        raise bad("seeds", "a non-empty list of seeds (integers >= 0)")
    for key, least in (("folds", 2), ("max_epochs", 1), ("eta", 2)):
        if saved[key] < least:
            raise bad(key, f"an integer >= {least}")
    return SearchPlan(**saved)


def open_or_create(spec: CVSpec, plan: SearchPlan, base: Mapping[str, Any], *, runs_dir: Path,
                   name: str | None, resume: Path | None) -> Run:
    record = {"app": spec.app, "plan": plan.describe(), "base": dict(base)}
    if resume is None:
        run = Run.create(runs_dir, spec.app, "cv", name or f"cv-{plan.search}")
        run.write_json("search.json", record)
        return run
    run = _unfinished_cv_run(resume, spec.app)
    saved = run.read_json("search.json")
    if json.loads(json.dumps(record)) != saved:
        raise RunParameterError("resume", "{path} was made with a different search space or settings; "
                                "resume it with the same {grid}, {search}, {folds}, {seeds} and flags",
                                path=resume)
    run.set_status("running", resumed=True)
    return run


def run_cv(spec: CVSpec, plan: SearchPlan, base: Mapping[str, Any], *, runs_dir: Path = Path("runs"),
           name: str | None = None, resume: Path | None = None, split_seed: int = 0,
           progress: Progress | None = None, on_trial: OnTrial | None = None,
           executor: Executor | None = None) -> CVResult:
    """Search, summarize, refit the winner and report. With ``training.tensorboard`` in
    ``base``, each trial logs to ``tensorboard/<trial>/`` in the cv run; ``on_trial`` sees each
    recorded trial (MLflow); ``executor`` runs the trials (by default here, one after the other)."""
    splits = spec.task.splits(plan.folds, split_seed)  # too few samples: fail before a run exists
    run = open_or_create(spec, plan, base, runs_dir=runs_dir, name=name, resume=resume)
    with run.guard():
        store = TrialStore(run.file("cv_results.csv"), list(plan.space))
        if resume is not None:
            log.info("resuming: %d of %d trials already finished", len(store.rows), plan.total_trials())
        board = run.file("tensorboard") if base.get("training", {}).get("tensorboard") else None
        run_search(spec.task, spec.config_cls, base, plan, store, splits=splits, progress=progress,
                   on_trial=on_trial, tensorboard_root=board, executor=executor)
        summary = summarize(plan, store, spec.task.greater_is_better)
        run.write_csv("summary.csv", summary.rows)
        best_params = {k: summary.best[k] for k in plan.space}
        best_config = build_config(spec.config_cls, base=base,
                                   values={**best_params, "training.seed": plan.seeds[0]})
        write_config_file(best_config, run.file("best_config.yaml"))
        images = _plots(run, plan, summary, spec.task.metric)
        refit = spec.refit(best_config, run.path)
        best = Best(best_params, summary.best["mean"], spec.task.metric,
                    [summary.best["ci95_low"], summary.best["ci95_high"]])
        result = CVResult(run.path, best, (refit.get("metrics") or {}).get("test"), refit.get("run_dir"),
                          summary.seed_note)
        run.write_json("cv_summary.json", result.to_dict())
        _report(spec, plan, summary, refit, images, run).write(run.path)
        run.complete()
    return result


def _plots(run: Run, plan: SearchPlan, summary: Summary, metric: str) -> list[tuple[str, str]]:
    images = []
    final = [r for r in summary.rows if r["rung"] == summary.best["rung"]]
    for key in plan.space:
        if len(plan.space[key]) > 1:
            name = f"validation_curve_{key.replace('.', '_')}.png"
            plots.validation_curve(final, key, run.file(name), metric)
            images.append((f"Validation curve: {key}", name))
    varied = [k for k in plan.space if len(plan.space[k]) > 1]
    if len(varied) >= 2:
        plots.heatmap(final, (varied[0], varied[1]), run.file("heatmap.png"), metric)
        images.append((f"Heatmap: {varied[0]} x {varied[1]}", "heatmap.png"))
    return images


def _report(spec: CVSpec, plan: SearchPlan, summary: Summary, refit: dict[str, Any],
            images: list[tuple[str, str]], run: Run) -> Report:
    best = summary.best
    rep = Report(f"{spec.app} cv: {plan.search} search")
    rep.section("Summary").text(
        f"{len(plan.candidates)} candidates, {plan.folds} folds, {len(plan.seeds)} seed(s), "
        f"{plan.search} search on {spec.data_source or 'the training data'}; the test split was not "
        f"used for selection. Best by mean cv {spec.task.metric}: "
        + ", ".join(f"{k}={best[k]}" for k in plan.space)
        + f" with {best['mean']:.4f} (95% CI {best['ci95_low']:.4f} to {best['ci95_high']:.4f}).")
    if summary.seed_note:
        rep.text(summary.seed_note)
    columns = ["rank", "candidate", *plan.space, "rung", "epochs", "n", "mean", "std", "ci95_low", "ci95_high"]
    rep.section("Candidates").table(summary.rows, columns)
    if refit.get("metrics"):
        rep.section("Best configuration refitted on all training data")
        rep.text(f"Run directory: {refit.get('run_dir')}. This is the only use of the test split.")
        rep.table(*metrics_rows({k: v for k, v in refit["metrics"].items() if k in ("validation", "test") and v}))
        for title, rel in refit.get("images", []):
            rep.image(rel, title)
    if images:
        rep.section("Plots")
        for title, file in images:
            rep.image(file, title)
    rep.section("Best configuration").key_values({k: best[k] for k in plan.space})
    return rep


SEARCHES = ("grid", "random", "halving")


def make_plan(cls: type[ExperimentConfig], base: Mapping[str, Any], *, grid: list[str],
              search: str, n_iter: int, folds: int, seeds: int, eta: int, seed: int) -> SearchPlan:
    """Validate everything a cv run needs before anything loads or trains."""
    from .space import candidates, parse_grid, space_from_mapping, validate_space

    if search not in SEARCHES:
        raise ParameterError("search", "{param} {name!r} is not one of {choices}", name=search,
                             choices=", ".join(SEARCHES))
    for param, value, least in (("folds", folds, 2), ("seeds", seeds, 1), ("n_iter", n_iter, 1), ("eta", eta, 2)):
        if value < least:  # the one check of each: the splitters take folds >= 2 as given
            raise ParameterError(param, "{param} must be at least {least}, got {value}", least=least, value=value)
    base = dict(base)
    file_space = base.pop("search", None)
    saved = space_from_mapping(file_space) if file_space is not None else {}  # its shape, always
    space = parse_grid(grid) if grid else saved
    validate_space(cls, base, space, None if grid or file_space is None else "search:")
    cands = candidates(space, search, n_iter, seed)
    max_epochs = build_config(cls, base=base).training.epochs
    plan = SearchPlan(space=space, candidates=cands, search=search, folds=folds,
                      seeds=[seed + i for i in range(seeds)], max_epochs=max_epochs, eta=eta)
    plan.rung_sizes()  # refuses halving with one candidate
    return plan
