"""The app protocol: what an app provides so that one toolkit (``shared/toolkit.py``) can train,
resume, evaluate, predict, cross-validate and compare it.

Every app is a typed object with its config class, a data loader that returns a typed dataset,
and what cross-validation needs (:class:`App`). Apps that train one model on labelled examples
(image, text) also provide the fit, its report and how a saved model is scored and asked
(:class:`TrainableApp`). Everything else (run directories, checks, model files, metrics files,
plots, resume, the search engine) is the toolkit's, written once.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from .config import ExperimentConfig

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from .report import Report
    from .runs import Run
    from .selection.protocols import CVTask
    from .training import FitResult

C = TypeVar("C", bound=ExperimentConfig)
D = TypeVar("D", bound="Dataset")


class Dataset(Protocol):
    """What the toolkit reads of any app's data: where it came from, what to tell the user, and
    a checksum (a resumed run refuses data that changed)."""

    source: str
    notes: list[str]

    def checksum(self) -> str: ...


class LabelledDataset(Dataset, Protocol):
    """A classification dataset: a training part and an optional test part."""

    y_train: np.ndarray
    y_test: np.ndarray | None
    class_names: list[str]


class App(Protocol[C, D]):
    """What every app provides: enough for :func:`toolkit.cv` and :func:`toolkit.compare`."""

    name: str
    config_cls: type[C]

    def load_data(self, config: C) -> D:
        """The configured data, checked (bad input raises a :class:`RegappsError`)."""
        ...

    def default_space(self, config: C) -> list[str]:
        """The search space cv uses when none is given, as ``--space`` takes it."""
        ...

    def cv_task(self, config: C, data: D) -> CVTask:
        """The search engine's view of the data: splits, and how to train and score a trial."""
        ...

    def refit(self, best: C, data: D, folder: Path) -> dict[str, Any]:
        """Train the winner of a search on all training data into ``folder`` and score the test
        part once: ``{"run_dir", "metrics": {"test": ...}, "images": [(title, path)]}``."""
        ...


@dataclass
class Fitted:
    """One trained model, as :meth:`TrainableApp.fit` hands it to the toolkit."""

    model: Any  # the inference model written to model.keras
    fit: FitResult
    validation: dict[str, Any]
    test: dict[str, Any] | None
    matrix: np.ndarray | None  # the confusion matrix to plot (None: no plot)
    matrix_split: str  # "test" or "validation"
    training: dict[str, Any] = field(default_factory=dict)  # more facts for metrics.json


@dataclass
class Trained(Generic[C]):
    """A finished train run, reopened: the model is not loaded yet."""

    run: Run
    meta: dict[str, Any]
    config: C


@dataclass
class Labelled:
    """A labelled set to score a trained model on (evaluate)."""

    x: Any
    y: np.ndarray
    source: str
    name: str  # name part of the evaluation's folder
    title: str  # the confusion matrix' title
    record: dict[str, Any] = field(default_factory=dict)  # more facts for metrics.json and the result


class TrainableApp(App[C, D], Protocol):
    """An app with ``train``, ``resume``, ``evaluate`` and ``predict``."""

    def check(self, config: C, data: D | None) -> None:
        """Refuse settings (``data`` None: before loading) or data that cannot train, before a
        run directory exists."""
        ...

    def run_name(self, config: C, data: D) -> str: ...

    def meta(self, config: C, data: D) -> dict[str, Any]:
        """The app's own facts for config.json's ``meta`` (class names, input format, ...)."""
        ...

    def fit(self, config: C, data: D, *, run_dir: Path, verbose: int, resume: bool) -> Fitted:
        """Train on the training part (validation split inside it) and score validation and test."""
        ...

    def curve_title(self, config: C, data: D) -> str: ...

    def train_report(self, config: C, data: D, metrics: Mapping[str, Any], split: str) -> Report: ...

    def check_meta(self, meta: dict[str, Any], run_dir: Path) -> None:
        """Refuse a train run whose ``meta`` lacks what evaluate and predict need."""
        ...

    def custom_objects(self) -> dict[str, Any]:
        """What Keras needs to load the app's model.keras."""
        ...

    def score(self, model: Any, labelled: Labelled, trained: Trained[C]) -> tuple[dict[str, Any], np.ndarray]:
        """Metrics and the confusion matrix of ``model`` on ``labelled``."""
        ...

    # Each app takes its own options here (folders, files, --top), so these are typed loosely:
    # labelled(trained, **source) -> Labelled: the set ``source`` names, or the run's test split
    @property
    def labelled(self) -> Callable[..., Labelled]: ...

    # read_inputs(trained, inputs, **options): predict's inputs, read and checked before the model loads
    @property
    def read_inputs(self) -> Callable[..., Any]: ...

    # predictions(model, batch, inputs, trained, **options): one answer per input, in order
    @property
    def predictions(self) -> Callable[..., list[dict[str, Any]]]: ...


@dataclass
class TrainResult:
    """What ``train`` and ``resume`` return: the run directory and its metrics.json."""

    run_dir: Path
    metrics: dict[str, Any]
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"run_dir": str(self.run_dir), "metrics": self.metrics, "notes": self.notes}


@dataclass
class EvaluateResult:
    run_dir: Path
    output_dir: Path
    metrics: dict[str, Any]  # {"test": ...}
    source: str
    record: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"run_dir": str(self.run_dir), "output_dir": str(self.output_dir), "metrics": self.metrics,
                "source": self.source, **self.record}


@dataclass
class PredictResult:
    run_dir: Path
    predictions: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"run_dir": str(self.run_dir), "predictions": self.predictions}
