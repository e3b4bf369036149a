"""Markdown reports: small helpers that turn metrics and configs into readable sections."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "nan"
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return "" if value is None else str(value)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "_(none)_\n"
    cols = list(columns or rows[0].keys())
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def key_values(mapping: Mapping[str, Any]) -> str:
    return table([{"key": k, "value": v} for k, v in _flatten(mapping).items()], ["key", "value"])


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def metrics_table(metrics: Mapping[str, Mapping[str, Any]]) -> str:
    """``{"validation": {...}, "test": {...}}`` -> one row per split, scalar metrics only."""
    rows = []
    for split, values in metrics.items():
        if isinstance(values, Mapping):
            row = {"split": split}
            row.update({k: v for k, v in values.items() if isinstance(v, (int, float))})
            rows.append(row)
    columns = ["split"] + sorted({k for r in rows for k in r if k != "split"})
    return table(rows, columns)


def document(title: str, sections: Sequence[tuple[str, str]]) -> str:
    parts = [f"# {title}\n"]
    parts += [f"## {heading}\n\n{body.rstrip()}\n" for heading, body in sections if body]
    return "\n".join(parts)
