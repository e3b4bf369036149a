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
    for ax, name in zip(axes[0], panels):
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
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path


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
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path
