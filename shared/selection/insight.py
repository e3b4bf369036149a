"""What a finished search tells beyond its winner: the optimization history (best score against
candidates and wall time), each hyperparameter's importance (Optuna's fANOVA over the finished
candidates) and a parallel-coordinates plot. Every search kind gets them: the recorded trials
are turned into an Optuna study (one trial per candidate, its fold mean as the value; a
candidate stopped before the last rung counts as pruned)."""
from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import plots
from .adaptive import distributions, quiet_optuna
from .search import SearchPlan, Summary
from .trials import TrialStore

log = logging.getLogger(__name__)


def history(plan: SearchPlan, store: TrialStore, summary: Summary, greater: bool) -> list[dict[str, Any]]:
    """Per candidate in the order they ran: its score (None when stopped early), the best so
    far, and the cumulative seconds of all trials up to it."""
    last = len(plan.rung_epochs()) - 1
    by_cand = {row["candidate"]: row for row in summary.rows}
    points, best, seconds = [], math.nan, 0.0
    for cand in sorted({r["candidate"] for r in store.rows}):
        seconds += sum(r["seconds"] for r in store.rows if r["candidate"] == cand)
        row = by_cand.get(cand)
        score = row["mean"] if row is not None and row["rung"] == last and math.isfinite(row["mean"]) else None
        if score is not None and (math.isnan(best) or (score > best if greater else score < best)):
            best = score
        points.append({"candidate": cand, "score": score, "best": None if math.isnan(best) else best,
                       "seconds": round(seconds, 3)})
    return points


def study_of(plan: SearchPlan, summary: Summary, greater: bool) -> Any:
    """The search as an Optuna study: completed candidates with their fold mean, others pruned."""
    optuna = quiet_optuna()
    dists = distributions(plan)
    study = optuna.create_study(direction="maximize" if greater else "minimize")
    last = len(plan.rung_epochs()) - 1
    for row in sorted(summary.rows, key=lambda r: r["candidate"]):
        params = {k: row[k] for k in plan.space}
        if not all(dists[k]._contains(dists[k].to_internal_repr(v)) for k, v in params.items()):
            continue
        done = row["rung"] == last and math.isfinite(row["mean"])
        state = optuna.trial.TrialState.COMPLETE if done else optuna.trial.TrialState.PRUNED
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, state=state,
                                                  value=row["mean"] if done else None))
    return study


def importances(study: Any, seed: int = 0) -> dict[str, float]:
    """fANOVA importance of each varied key (sums to 1); empty when too few candidates finished."""
    optuna = quiet_optuna()
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) < 3:
        return {}
    try:
        found = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=seed))
    except (RuntimeError, ValueError) as exc:  # e.g. every finished candidate had the same values
        log.info("no hyperparameter importance: %s", exc)
        return {}
    return {k: round(float(v), 4) for k, v in found.items()}


def parallel_coordinates(study: Any, keys: Sequence[str], path: Path) -> Path | None:
    """Optuna's parallel-coordinates plot of the finished candidates over ``keys`` (the varied
    ones); None with fewer than 2 finished."""
    optuna = quiet_optuna()
    if sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials) < 2:
        return None
    plt = plots._pyplot()
    from optuna.visualization.matplotlib import plot_parallel_coordinate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a key all finished candidates share
        ax = plot_parallel_coordinate(study, params=list(keys))
    fig: Any = ax.figure
    fig.set_size_inches(8, 4.2)
    fig.tight_layout()
    return plots.save_figure(fig, path, plt)
