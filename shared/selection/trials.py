"""Trial records: every finished (candidate, fold, seed, rung) is written at once to
``cv_results.csv``; a resumed search reads them back and skips what is done."""
from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import RunDirError
from ..runs import atomic_write_csv

BASE_COLUMNS = ["candidate", "rung", "fold", "seed", "epochs", "score", "epochs_run", "best_epoch", "seconds"]


def param_column(key: str) -> str:
    return f"param:{key}"


class TrialStore:
    def __init__(self, path: Path, space_keys: list[str]):
        self.path = path
        self.columns = BASE_COLUMNS[:1] + [param_column(k) for k in space_keys] + BASE_COLUMNS[1:]
        self.rows: list[dict[str, Any]] = []
        if path.is_file():
            self.rows = self._read()

    def _read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                if reader.fieldnames != self.columns:
                    raise RunDirError(f"{self.path} was written for another search space")
                rows = []
                for raw in reader:
                    row: dict[str, Any] = dict(raw)
                    for k in ("candidate", "rung", "fold", "seed", "epochs", "epochs_run", "best_epoch"):
                        row[k] = int(row[k])
                    row["score"], row["seconds"] = float(row["score"]), float(row["seconds"])
                    rows.append(row)
        except (OSError, ValueError, KeyError) as exc:
            raise RunDirError(f"{self.path} is unreadable: {exc}") from exc
        return rows

    @staticmethod
    def key(candidate: int, rung: int, fold: int, seed: int) -> tuple[int, int, int, int]:
        return (candidate, rung, fold, seed)

    def done(self) -> set[tuple[int, int, int, int]]:
        return {self.key(r["candidate"], r["rung"], r["fold"], r["seed"]) for r in self.rows}

    def add(self, row: Mapping[str, Any]) -> None:
        self.rows.append(dict(row))
        atomic_write_csv(self.path, self.rows, self.columns)

    def scores(self, candidate: int, rung: int) -> list[float]:
        return [r["score"] for r in self.rows if r["candidate"] == candidate and r["rung"] == rung]


def encode_param(value: Any) -> str:
    return json.dumps(value)


def finite(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
