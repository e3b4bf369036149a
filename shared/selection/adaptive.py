"""Model-based search and pruning through Optuna's ask-and-tell interface, inside regapps' own
trial loop: Optuna proposes a candidate (TPE, or the next of a random plan) and decides on
pruning; regapps trains and records every trial, so results are written at once, resumed,
run on any executor and reported as for grid search.

A candidate's folds and seeds run together, rung by rung (1, eta, eta^2 ... epochs, then the
full budget). With ``--prune``, Optuna's successive-halving pruner sees the candidate's mean
over folds at each rung and stops it when it is not among the best ``1/eta`` of the candidates
that reached that rung. Each fold trains on its own training part only; the validation scores
decide whether all its folds go on, never what any fold trains on.

Resume replays the recorded trials through the same loop: the seeded sampler proposes the same
candidates again (the recorded ones are used if it ever does not), and recorded results are
told instead of trained, so the pruner and sampler see what they saw the first time.
"""
from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .plan import SearchPlan
from .protocols import CVTask, TrialKey
from .space import Range, tidy
from .trials import TrialStore

if TYPE_CHECKING:  # pragma: no cover
    import optuna

log = logging.getLogger(__name__)


class Engine(Protocol):
    """What this loop needs of the engine (search.py's, which calls it)."""

    task: CVTask
    plan: SearchPlan
    store: TrialStore
    workers: int

    def trials_of(self, cands: Sequence[int], rung: int) -> list[TrialKey]: ...

    def run(self, keys: Sequence[TrialKey], epochs: int | None, keep: bool) -> None: ...

    def fits(self, cands: Sequence[int], rungs: Sequence[int]) -> bool: ...

    def mean(self, cand: int, rung: int) -> float: ...

    def forget(self, cands: Sequence[int]) -> None: ...


def quiet_optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def distributions(plan: SearchPlan) -> dict[str, Any]:
    """Optuna distributions of the space: ranges as float or int, lists as categorical."""
    optuna = quiet_optuna()
    dists: dict[str, Any] = {}
    for key, dim in plan.space.items():
        if isinstance(dim, Range):
            if plan.kinds.get(key) == "int":
                dists[key] = optuna.distributions.IntDistribution(int(dim.low), int(dim.high), log=dim.log)
            else:
                dists[key] = optuna.distributions.FloatDistribution(float(dim.low), float(dim.high), log=dim.log)
        else:
            dists[key] = optuna.distributions.CategoricalDistribution(list(dim))
    return dists


def startup_trials(n_iter: int) -> int:
    """Random proposals before TPE models the results: a quarter of the budget, 3 to 10."""
    return max(3, min(10, n_iter // 4))


def make_study(plan: SearchPlan, greater: bool, width: int = 1) -> optuna.Study:
    """``width``: candidates in flight at once (more than one: TPE's constant liar)."""
    optuna = quiet_optuna()
    sampler: Any
    if plan.search == "tpe":
        sampler = optuna.samplers.TPESampler(seed=plan.seeds[0], n_startup_trials=startup_trials(plan.n_iter),
                                             multivariate=True, constant_liar=width > 1)
    else:  # random (with pruning): the plan's own candidates are enqueued one by one
        sampler = optuna.samplers.RandomSampler(seed=plan.seeds[0])
    pruner = (optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=plan.eta)
              if plan.prune else optuna.pruners.NopPruner())
    return optuna.create_study(direction="maximize" if greater else "minimize", sampler=sampler, pruner=pruner)


def recorded_candidates(engine: Engine) -> dict[int, dict[str, Any]]:
    """Each recorded candidate's parameters, from the trial store."""
    import json

    from .trials import param_column

    found: dict[int, dict[str, Any]] = {}
    for row in engine.store.rows:
        found.setdefault(row["candidate"], {k: json.loads(row[param_column(k)]) for k in engine.plan.space})
    return found


def _propose(study: optuna.Study, dists: dict[str, Any], plan: SearchPlan, cand: int,
             recorded: dict[int, dict[str, Any]]) -> tuple[Any, dict[str, Any]]:
    """Candidate ``cand``'s Optuna trial and parameters: the plan's own (random), else TPE's."""
    if plan.search != "tpe":
        study.enqueue_trial(plan.candidates[cand])
        return study.ask(dists), dict(plan.candidates[cand])
    if cand == 0 and plan.first:
        study.enqueue_trial(plan.first, skip_if_exists=False)
    trial = study.ask(dists)
    params = {k: tidy(trial.params[k]) for k in plan.space}
    if cand in recorded and recorded[cand] != params:  # a sampler that changed: keep what ran
        log.warning("candidate %d: the sampler proposed other values on resume; the recorded ones are used", cand)
        study.tell(trial, state=quiet_optuna().trial.TrialState.FAIL)
        study.enqueue_trial(recorded[cand])
        trial, params = study.ask(dists), dict(recorded[cand])
    return trial, params


def run_adaptive(engine: Engine) -> None:
    """Propose, train rung by rung, prune, tell: until the plan's candidates are done or the
    budget refuses the next group. The study lives in memory only; the report rebuilds one from
    the recorded trials (insight.py), as for every search."""
    optuna = quiet_optuna()
    plan = engine.plan
    rungs = plan.rung_epochs()
    per_candidate = len(engine.trials_of([0], 0))
    width = max(1, math.ceil(engine.workers / per_candidate))  # candidates in flight together
    study = make_study(plan, engine.task.greater_is_better, width)
    dists = distributions(plan)
    recorded = recorded_candidates(engine)
    total = plan.n_candidates()
    if plan.search == "tpe":
        plan.candidates.clear()
    cand = 0
    while cand < total:
        group = list(range(cand, min(total, cand + width)))
        if not engine.fits(group, range(len(rungs))):
            log.warning("time budget: %d of %d candidates finished; resume the run to go on", cand, total)
            break
        trials: dict[int, Any] = {}
        for c in group:
            trials[c], params = _propose(study, dists, plan, c, recorded)
            if plan.search == "tpe":
                plan.candidates.append(params)
        alive = list(group)
        for rung, epochs in enumerate(rungs):
            last = rung == len(rungs) - 1
            engine.run([k for c in alive for k in engine.trials_of([c], rung)], epochs, keep=not last)
            for c in list(alive):
                mean = engine.mean(c, rung)
                if last:
                    if math.isfinite(mean):
                        study.tell(trials[c], mean)
                    else:
                        study.tell(trials[c], state=optuna.trial.TrialState.FAIL)
                    continue
                trials[c].report(mean if math.isfinite(mean) else _worst(engine), int(epochs or plan.max_epochs))
                if trials[c].should_prune():
                    study.tell(trials[c], state=optuna.trial.TrialState.PRUNED)
                    engine.forget([c])
                    alive.remove(c)
                    log.info("candidate %d pruned at %s epochs (fold mean %.4f)", c, epochs, mean)
        cand += len(group)


def _worst(engine: Engine) -> float:
    return -math.inf if engine.task.greater_is_better else math.inf
