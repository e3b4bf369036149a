"""Reports as one structure rendered twice: ``report.md`` and a self-contained ``report.html``
(images embedded as data URIs, inline CSS, no network needed to open it from disk)."""
from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .runs import atomic_write_text


def fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return "nan"
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return "" if value is None else str(value)


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def metrics_rows(metrics: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """``{"validation": {...}, "test": {...}}`` -> one row per split, scalar metrics only."""
    rows = []
    for split, values in metrics.items():
        if isinstance(values, Mapping):
            row: dict[str, Any] = {"split": split}
            row.update({k: v for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
            rows.append(row)
    columns = ["split"] + sorted({k for r in rows for k in r if k != "split"})
    return rows, columns


@dataclass
class _Block:
    kind: str  # "text" | "table" | "image"
    text: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    path: str = ""


@dataclass
class Report:
    title: str
    sections: list[tuple[str, list[_Block]]] = field(default_factory=list)

    def section(self, heading: str) -> Report:
        self.sections.append((heading, []))
        return self

    def _add(self, block: _Block) -> Report:
        if not self.sections:
            self.section("Summary")
        self.sections[-1][1].append(block)
        return self

    def text(self, text: str) -> Report:
        return self._add(_Block("text", text=text))

    def table(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> Report:
        table = [dict(r) for r in rows]
        cols = list(columns or (table[0].keys() if table else []))
        return self._add(_Block("table", rows=table, columns=cols))

    def key_values(self, mapping: Mapping[str, Any]) -> Report:
        return self.table([{"key": k, "value": v} for k, v in flatten(mapping).items()], ["key", "value"])

    def image(self, path: str, alt: str = "") -> Report:
        """``path`` is relative to the report's folder."""
        return self._add(_Block("image", text=alt or path, path=path))

    # --- rendering ------------------------------------------------------------------------
    def markdown(self) -> str:
        parts = [f"# {self.title}\n"]
        for heading, blocks in self.sections:
            if not blocks:
                continue
            parts.append(f"## {heading}\n")
            for b in blocks:
                if b.kind == "text":
                    parts.append(b.text.rstrip() + "\n")
                elif b.kind == "table":
                    parts.append(_md_table(b.rows, b.columns))
                else:
                    parts.append(f"![{b.text}]({b.path})\n")
        return "\n".join(parts)

    def html(self, folder: Path) -> str:
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        for heading, blocks in self.sections:
            if not blocks:
                continue
            body.append(f"<h2>{html.escape(heading)}</h2>")
            for b in blocks:
                if b.kind == "text":
                    body += [f"<p>{html.escape(p.strip())}</p>" for p in b.text.split("\n\n") if p.strip()]
                elif b.kind == "table":
                    body.append(_html_table(b.rows, b.columns))
                else:
                    body.append(_html_image(folder / b.path, b.text))
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
                f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")

    def write(self, folder: Path, stem: str = "report") -> None:
        atomic_write_text(folder / f"{stem}.md", self.markdown())
        atomic_write_text(folder / f"{stem}.html", self.html(folder))


_CSS = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0;font-size:14px}"
        "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f3f3f3}"
        "img{max-width:100%;border:1px solid #eee}")


def _md_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return "_(none)_\n"
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c)).replace("|", "\\|") for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _html_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return "<p><em>(none)</em></p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(fmt(r.get(c)))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_image(path: Path, alt: str) -> str:
    if not path.is_file():
        return f"<p><em>missing image: {html.escape(path.name)}</em></p>"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<figure><img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'></figure>"

