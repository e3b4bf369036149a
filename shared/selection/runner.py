"""A cross-validation run: run directory, resume, search, summary, best config, plots, refit
of the winner on all training data (the one time the test split is touched), and the report."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import plots
from ..config import ExperimentConfig, build_config, shape_of, write_config_file
from ..errors import ConfigError, ParameterError, RunDirError, RunParameterError
from ..report import Report, metrics_rows
from ..runs import COMPLETED, Run
from .budget import Budget
from .protocols import CVTask, Executor, OnTrial, Progress
from .search import SearchPlan, Summary, run_search, summarize
from .space import Space, validate_space
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
    stopped: str = ""  # why the time budget ended the search early; empty when it ran to the end
    importance: dict[str, float] = field(default_factory=dict)  # fANOVA, finished candidates
    history: list[dict[str, Any]] = field(default_factory=list)  # per candidate: score, best so far, seconds

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {"run_dir": str(self.run_dir),
                "best": {"params": best.params, "score": best.score, "metric": best.metric, "ci95": best.ci95},
                "test": self.test, "refit_run_dir": self.refit_run_dir, "seed_note": self.seed_note,
                "stopped": self.stopped, "importance": self.importance, "history": self.history}


def _unfinished_cv_run(run_dir: Path, app: str | None) -> Run:
    """The cv run of ``app`` at ``run_dir``, refused unless it is one and is not finished."""
    run = Run.open(run_dir, app=app, require=None)
    if run.command != "cv" or not run.file("search.json").is_file():
        raise RunDirError(f"{run_dir} is not a cv run")
    status = run.status()
    if status.get("status") == COMPLETED and not status.get("budget_exhausted"):
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
                "max_epochs": int, "eta": int, "n_iter": int, "prune": bool, "kinds": dict, "first": dict}
_PLAN_DEFAULTS = {"eta": 3, "n_iter": 0, "prune": False, "kinds": {}, "first": {}}  # plans saved before them
_KINDS = {dict: "a mapping", list: "a list", str: "a string", int: "an integer", bool: "true or false"}


def checked_plan(saved: Mapping[str, Any], where: Path) -> SearchPlan:
    """The search plan a cv run saved, each value of the shape this version writes."""
    from .space import dimension_from_value, in_dimension

    def bad(key: str, allowed: str) -> ConfigError:
        return ConfigError(f"{where} does not fit this version of regapps: plan.{key}: expected {allowed}")

    unknown = sorted(set(saved) - set(_PLAN_FIELDS))
    if unknown:
        raise bad(unknown[0], "no such key (allowed: " + ", ".join(_PLAN_FIELDS) + ")")
    saved = {**_PLAN_DEFAULTS, **saved}
    for key, kind in _PLAN_FIELDS.items():
        value = saved.get(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise bad(key, f"{_KINDS[kind]}, not {shape_of(value)}")
    try:
        space: Space = {k: dimension_from_value(v, f"plan.space.{k}") for k, v in saved["space"].items()}
    except ConfigError:
        space = {}
    if not space:
        raise bad("space", "a mapping of keys to non-empty lists of values or to ranges")
    candidates = saved["candidates"]

    def fits(c: Any) -> bool:
        return isinstance(c, dict) and set(c) == set(space) and all(in_dimension(space[k], c[k]) for k in space)

    if saved["search"] not in SEARCHES:
        raise bad("search", "one of " + ", ".join(SEARCHES))
    if saved["search"] == "tpe":
        if candidates or saved["n_iter"] < 1:
            raise bad("candidates", "an empty list and n_iter >= 1 (tpe proposes its candidates)")
    elif not candidates or not all(fits(c) for c in candidates):
        raise bad("candidates", "a list of candidates, each a value from the space for every key")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in saved["seeds"]) or not saved["seeds"]:
        raise bad("seeds", "a non-empty list of seeds (integers >= 0)")
    for key, least in (("folds", 2), ("max_epochs", 1), ("eta", 2)):
        if saved[key] < least:
            raise bad(key, f"an integer >= {least}")
    return SearchPlan(**{**saved, "space": space})


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
           executor: Executor | None = None, budget: Budget | None = None) -> CVResult:
    """Search, summarize, refit the winner and report. With ``training.tensorboard`` in
    ``base``, each trial logs to ``tensorboard/<trial>/`` in the cv run; ``on_trial`` sees each
    recorded trial (MLflow); ``executor`` runs the trials (by default here, one after the other).
    With ``budget``, the search starts nothing that would not finish inside it (the winner's
    refit kept back); a search it stops is summarized, refitted and reported as far as it got,
    and ``resume`` goes on with it."""
    splits = spec.task.splits(plan.folds, split_seed)  # too few samples: fail before a run exists
    run = open_or_create(spec, plan, base, runs_dir=runs_dir, name=name, resume=resume)
    with run.guard():
        stale = run.status().get("refit_run_dir") if resume is not None else None
        store = TrialStore(run.file("cv_results.csv"), list(plan.space))
        if resume is not None:
            log.info("resuming: %d of %d trials already finished", len(store.rows), plan.total_trials())
        board = run.file("tensorboard") if base.get("training", {}).get("tensorboard") else None
        run_search(spec.task, spec.config_cls, base, plan, store, splits=splits, progress=progress,
                   on_trial=on_trial, tensorboard_root=board, executor=executor, budget=budget)
        summary = summarize(plan, store, spec.task.greater_is_better)
        stopped = budget is not None and budget.stopped
        if budget is not None and budget.stopped:
            summary.extra["stopped"] = (
                f"The {budget.minutes:g}-minute time budget ended the search after {len(store.rows)} trials "
                f"({len({r['candidate'] for r in store.rows})} of {plan.n_candidates()} candidates); "
                f"`cv --resume {run.path}` goes on with it.")
        run.write_csv("summary.csv", summary.rows)
        best_params = {k: summary.best[k] for k in plan.space}
        best_config = build_config(spec.config_cls, base=base,
                                   values={**best_params, "training.seed": plan.seeds[0]})
        write_config_file(best_config, run.file("best_config.yaml"))
        images = _plots(run, plan, store, summary, spec.task)
        refit = spec.refit(best_config, run.path)
        _drop_stale_refit(run.path, stale, refit.get("run_dir"))
        best = Best(best_params, summary.best["mean"], spec.task.metric,
                    [summary.best["ci95_low"], summary.best["ci95_high"]])
        result = CVResult(run.path, best, (refit.get("metrics") or {}).get("test"), refit.get("run_dir"),
                          summary.seed_note, summary.extra.get("stopped", ""), summary.extra.get("importance", {}),
                          summary.extra.get("history", []))
        run.write_json("cv_summary.json", result.to_dict())
        _report(spec, plan, summary, refit, images, run).write(run.path)
        run.complete(budget_exhausted=stopped, refit_run_dir=refit.get("run_dir"))
    return result


def _drop_stale_refit(root: Path, stale: Any, current: Any) -> None:
    """A resumed run's earlier refit of its then-best candidate, superseded by this one."""
    import shutil

    if not isinstance(stale, str) or stale == current:
        return
    old = Path(stale)
    if old.is_dir() and old.resolve().parent == root.resolve():
        shutil.rmtree(old, ignore_errors=True)
        log.info("removed the earlier refit %s (superseded)", old)


def _plots(run: Run, plan: SearchPlan, store: TrialStore, summary: Summary, task: CVTask) -> list[tuple[str, str]]:
    from .insight import history, importances, parallel_coordinates, study_of
    from .space import Range

    metric, images = task.metric, []
    points = history(plan, store, summary, task.greater_is_better)
    summary.extra["history"] = points
    if len(points) > 1:
        plots.search_history(points, run.file("optimization_history.png"), metric)
        images.append(("Optimization history", "optimization_history.png"))
    final = [r for r in summary.rows if r["rung"] == summary.best["rung"]]
    listed = [k for k, dim in plan.space.items() if isinstance(dim, list) and len(dim) > 1]
    for key in listed:
        name = f"validation_curve_{key.replace('.', '_')}.png"
        plots.validation_curve(final, key, run.file(name), metric)
        images.append((f"Validation curve: {key}", name))
    if len(listed) >= 2 and len(listed) == len(plan.space):
        plots.heatmap(final, (listed[0], listed[1]), run.file("heatmap.png"), metric)
        images.append((f"Heatmap: {listed[0]} x {listed[1]}", "heatmap.png"))
    varied = listed + [k for k in plan.space if isinstance(plan.space[k], Range)]
    if varied:
        study = study_of(plan, summary, task.greater_is_better)
        summary.extra["importance"] = importances(study, plan.seeds[0])
        if len(varied) >= 2 and parallel_coordinates(study, varied, run.file("parallel_coordinates.png")):
            images.append(("Parallel coordinates (finished candidates)", "parallel_coordinates.png"))
    return images


def _report(spec: CVSpec, plan: SearchPlan, summary: Summary, refit: dict[str, Any],
            images: list[tuple[str, str]], run: Run) -> Report:
    from .space import describe_space

    best = summary.best
    rep = Report(f"{spec.app} cv: {plan.search} search" + (" with pruning" if plan.prune else ""))
    rep.section("Summary").text(
        f"{plan.n_candidates()} candidates, {plan.folds} folds, {len(plan.seeds)} seed(s), "
        f"{plan.search} search on {spec.data_source or 'the training data'}; the test split was not "
        f"used for selection. Best by mean cv {spec.task.metric}: "
        + ", ".join(f"{k}={best[k]}" for k in plan.space)
        + f" with {best['mean']:.4f} (95% CI {best['ci95_low']:.4f} to {best['ci95_high']:.4f}).")
    if summary.extra.get("stopped"):
        rep.text(summary.extra["stopped"])
    if summary.seed_note:
        rep.text(summary.seed_note)
    rep.section("Search space").text(
        "; ".join(describe_space(plan.space))
        + (". TPE tried the configuration as given first: " + ", ".join(f"{k}={v}" for k, v in plan.first.items())
           if plan.search == "tpe" and plan.first else "")
        + (f". Pruning: successive halving over epochs {[e for e in plan.rung_epochs() if e]}, keeping the best "
           f"1/{plan.eta} of the candidates at each rung by their mean over folds." if plan.prune else "."))
    if summary.extra.get("importance"):
        rep.section("Hyperparameter importance").text(
            "fANOVA importance over the finished candidates (Optuna); it sums to 1.")
        rep.table([{"key": k, "importance": v} for k, v in summary.extra["importance"].items()], ["key", "importance"])
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


SEARCHES = ("grid", "random", "halving", "tpe")


def make_plan(cls: type[ExperimentConfig], base: Mapping[str, Any], *, grid: Sequence[str],
              search: str | None, n_iter: int, folds: int, seeds: int, eta: int, seed: int,
              prune: bool = False, space: Sequence[str] = (), default_space: Sequence[str] = ()) -> SearchPlan:
    """Validate everything a cv run needs before anything loads or trains. ``space`` and
    ``grid`` are ``key=v1,v2`` / ``key=low..high[:log]`` items (``--space`` and ``--grid``; errors
    name the one given). ``search`` None picks one: grid when every key is a list, else tpe. With
    no space at all (neither, and no ``search:`` mapping in ``base``), ``default_space``."""
    from .space import candidates, key_kind, parse_grid, space_from_mapping, validate_space

    if search is not None and search not in SEARCHES:
        raise ParameterError("search", "{param} {name!r} is not one of {choices}", name=search,
                             choices=", ".join(SEARCHES))
    for param, value, least in (("folds", folds, 2), ("seeds", seeds, 1), ("n_iter", n_iter, 1), ("eta", eta, 2)):
        if value < least:  # the one check of each: the splitters take folds >= 2 as given
            raise ParameterError(param, "{param} must be at least {least}, got {value}", least=least, value=value)
    base = dict(base)
    file_space = base.pop("search", None)
    saved = space_from_mapping(file_space) if file_space is not None else {}  # its shape, always
    chosen: Space = {}
    for param, items in (("space", space), ("grid", grid)):
        if items:
            part = parse_grid(items, param)
            twice = sorted(set(part) & set(chosen))
            if twice:
                raise ParameterError(param, "{param} {key} is given by --space and --grid too", key=twice[0])
            validate_space(cls, base, part, None, param)
            chosen.update(part)
    searched: Space = chosen
    if not chosen and (file_space is not None or not default_space):
        searched = saved
        validate_space(cls, base, saved, None if file_space is None else "search:")
    elif not chosen:
        searched = parse_grid(default_space)
        validate_space(cls, base, searched, "the default search space:")
    if search is None:
        search = "grid" if all(isinstance(v, list) for v in searched.values()) else "tpe"
    if prune and search not in ("random", "tpe"):
        raise ParameterError("prune", "{param} goes with {search} random or tpe (halving prunes by itself; "
                             "grid trains every candidate fully)")
    kinds = {k: key_kind(cls, k) for k in searched}
    if search == "tpe":
        cands: list[dict[str, Any]] = []
        first = _first_candidate(cls, base, searched)
    else:
        cands, first = candidates(searched, search, n_iter, seed, kinds), {}
    max_epochs = build_config(cls, base=base).training.epochs
    plan = SearchPlan(space=searched, candidates=cands, search=search, folds=folds,
                      seeds=[seed + i for i in range(seeds)], max_epochs=max_epochs, eta=eta,
                      n_iter=n_iter if search == "tpe" else 0, prune=prune, kinds=kinds, first=first)
    plan.rung_sizes()  # refuses halving with one candidate
    return plan


def _first_candidate(cls: type[ExperimentConfig], base: Mapping[str, Any], space: Space) -> dict[str, Any]:
    """The base configuration's values of the space's keys that lie in it: TPE tries them first,
    so the search starts from the configuration ``train`` would use."""
    from .space import in_dimension

    config = build_config(cls, base=base).to_dict()
    first: dict[str, Any] = {}
    for key, dim in space.items():
        node: Any = config
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if in_dimension(dim, node):
            first[key] = node
    return first
