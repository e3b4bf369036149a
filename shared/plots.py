"""PNG plots (matplotlib, Agg backend), written atomically."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .runs import atomic_path


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def learning_curves(history: Mapping[str, Sequence[Any]], path: Path, title: str = "") -> Path:
    """Loss (left) and every other metric (right) for train and validation, per epoch."""
    plt = _pyplot()
    metrics = [k for k in history if not k.startswith("val_") and k not in {"learning_rate", "seconds"}]
    panels = ["loss"] + [m for m in metrics if m != "loss"][:2]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, name in zip(axes[0], panels, strict=True):
        for key, style in ((name, "-"), (f"val_{name}", "--")):
            values = history.get(key)
            if values:
                ax.plot(range(1, len(values) + 1), values, style, label=key)
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path, plt)


def confusion_matrix(matrix: Any, labels: Sequence[str], path: Path, title: str = "") -> Path:
    plt = _pyplot()
    n = len(labels)
    size = max(4.0, 0.55 * n + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), labels, rotation=45, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    peak = max(1, int(matrix.max()))
    for i in range(n):
        for j in range(n):
            ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if matrix[i, j] > peak / 2 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_title(title or "confusion matrix")
    fig.tight_layout()
    return save_figure(fig, path, plt)


def validation_curve(rows: Sequence[Mapping[str, Any]], key: str, path: Path, metric: str) -> Path:
    """Mean CV score (with its 95% CI) against one hyperparameter; for every other setting the
    best candidate with that value is shown, so the curve reads 'best achievable at this value'."""
    plt = _pyplot()
    values: dict[str, Mapping[str, Any]] = {}
    for row in rows:  # rows come best-first, so the first row per value is the best one
        values.setdefault(str(row[key]), row)
    labels = list(values)
    numeric = all(isinstance(values[k][key], (int, float)) and not isinstance(values[k][key], bool) for k in labels)
    if numeric:
        labels.sort(key=lambda k: float(values[k][key]))
    means = [values[k]["mean"] for k in labels]
    lows = [values[k]["mean"] - values[k]["ci95_low"] if values[k]["ci95_low"] == values[k]["ci95_low"] else 0 for k in labels]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.errorbar(range(len(labels)), means, yerr=lows, marker="o", capsize=4)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlabel(key)
    ax.set_ylabel(f"cv {metric}")
    ax.grid(alpha=0.3)
    ax.set_title(f"validation curve: {key}")
    fig.tight_layout()
    return save_figure(fig, path, plt)


def heatmap(rows: Sequence[Mapping[str, Any]], keys: tuple[str, str], path: Path, metric: str) -> Path:
    """Best mean CV score for each pair of values of two hyperparameters."""
    import numpy as np

    plt = _pyplot()
    xs = sorted({str(r[keys[0]]) for r in rows}, key=_sort_key)
    ys = sorted({str(r[keys[1]]) for r in rows}, key=_sort_key)
    grid = np.full((len(ys), len(xs)), np.nan)
    for row in reversed(list(rows)):  # best rows last, so they win
        grid[ys.index(str(row[keys[1]])), xs.index(str(row[keys[0]]))] = row["mean"]
    fig, ax = plt.subplots(figsize=(1.2 * len(xs) + 3, 0.8 * len(ys) + 2.2))
    image = ax.imshow(grid, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(xs)), xs)
    ax.set_yticks(range(len(ys)), ys)
    ax.set_xlabel(keys[0])
    ax.set_ylabel(keys[1])
    for i in range(len(ys)):
        for j in range(len(xs)):
            if grid[i, j] == grid[i, j]:
                ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center", color="white", fontsize=8)
    fig.colorbar(image, ax=ax, label=f"cv {metric}")
    fig.tight_layout()
    return save_figure(fig, path, plt)


def overlaid_curves(histories: Mapping[str, Mapping[str, Sequence[Any]]], metric: str, path: Path,
                    title: str = "") -> Path:
    """Train (solid) and validation (dashed) ``metric`` per epoch for several runs."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, (name, history) in enumerate(histories.items()):
        color = f"C{i % 10}"
        for key, style in ((metric, "-"), (f"val_{metric}", "--")):
            values = history.get(key)
            if values:
                ax.plot(range(1, len(values) + 1), values, style, color=color,
                        label=f"{name} ({'val' if key.startswith('val_') else 'train'})")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(title or metric)
    fig.tight_layout()
    return save_figure(fig, path, plt)



def _sort_key(text: str) -> tuple[int, Any]:
    try:
        return (0, float(text))
    except ValueError:
        return (1, text)


def save_figure(fig: Any, path: Path, plt: Any) -> Path:
    """Write ``fig`` to ``path`` as PNG (atomically) and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path


def search_history(points: Sequence[Mapping[str, Any]], path: Path, metric: str) -> Path:
    """A search's history: each candidate's cv score (dots; stopped ones left out) and the best
    so far (line), against the candidate's number and against wall time."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for ax, x_key, label in ((axes[0], "candidate", "candidate"), (axes[1], "seconds", "trial seconds so far")):
        scored = [p for p in points if p["score"] is not None]
        ax.plot([p[x_key] for p in scored], [p["score"] for p in scored], "o", alpha=0.6, label="candidate")
        best = [p for p in points if p["best"] is not None]
        ax.step([p[x_key] for p in best], [p["best"] for p in best], where="post", label="best so far")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"cv {metric}")
    axes[0].legend(loc="best", fontsize=8)
    fig.suptitle("optimization history")
    fig.tight_layout()
    return save_figure(fig, path, plt)
