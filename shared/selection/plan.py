"""A search plan: the space, the candidates (or how many TPE proposes), folds, seeds and the
rungs of epochs that halving and pruning judge candidates at. It is what ``search.json`` saves
and a resumed run must match."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import ParameterError
from .space import Space, space_to_json


@dataclass
class SearchPlan:
    space: Space
    candidates: list[dict[str, Any]]  # tpe: empty until the sampler proposes them
    search: str  # grid | random | halving | tpe
    folds: int
    seeds: list[int]
    max_epochs: int
    eta: int = 3
    n_iter: int = 0  # tpe: candidates to propose
    prune: bool = False  # random, tpe: stop a candidate whose fold mean falls behind at a rung
    kinds: dict[str, str] = field(default_factory=dict)  # key -> int | float | categorical
    first: dict[str, Any] = field(default_factory=dict)  # tpe: the base config's values, tried first

    @property
    def adaptive(self) -> bool:
        """Candidates run one after another through Optuna (ask and tell), not a fixed list."""
        return self.search == "tpe" or self.prune

    def n_candidates(self) -> int:
        return self.n_iter if self.search == "tpe" else len(self.candidates)

    def rung_sizes(self) -> list[int]:
        if self.search != "halving":
            return [self.n_candidates()]
        if len(self.candidates) < 2:
            raise ParameterError("search", "{param} halving needs at least 2 candidates; widen the {grid}")
        sizes = [len(self.candidates)]
        while sizes[-1] > 2:  # the last pair gets the full budget: winner against runner-up
            sizes.append(max(2, math.ceil(sizes[-1] / self.eta)))
        return sizes

    def rung_epochs(self) -> list[int | None]:
        """Epochs per rung; ``None`` keeps the config's own epochs (grid and random). Pruning
        judges a candidate at 1, eta, eta^2 ... epochs up to a third of the budget, then
        trains it to the full budget."""
        if self.prune:
            rungs: list[int | None] = []
            step = 1
            while step * self.eta <= self.max_epochs:
                rungs.append(step)
                step *= self.eta
            return [*rungs, None]
        sizes = self.rung_sizes()
        if self.search != "halving":
            return [None]
        last = len(sizes) - 1
        return [max(1, round(self.max_epochs / self.eta ** (last - r))) for r in range(len(sizes))]

    def total_trials(self) -> int:
        if self.adaptive:  # at most: pruned candidates stop early
            return self.n_candidates() * len(self.rung_epochs()) * self.folds * len(self.seeds)
        return sum(self.rung_sizes()) * self.folds * len(self.seeds)

    def describe(self) -> dict[str, Any]:
        return {"space": space_to_json(self.space), "search": self.search, "folds": self.folds,
                "seeds": self.seeds, "candidates": [] if self.search == "tpe" else self.candidates,
                "max_epochs": self.max_epochs, "eta": self.eta, "n_iter": self.n_iter, "prune": self.prune,
                "kinds": self.kinds, "first": self.first}
