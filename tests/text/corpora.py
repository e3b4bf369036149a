"""Tiny generated corpora for the text app: a learnable vocabulary, aclImdb layouts, CSVs."""
from __future__ import annotations

import csv
import random
from pathlib import Path

POSITIVE = ["great", "excellent", "wonderful", "superb", "loved", "brilliant", "amazing", "moving"]
NEGATIVE = ["awful", "terrible", "boring", "dull", "hated", "worst", "waste", "bad"]
FILLER = ["the", "movie", "film", "plot", "actor", "scene", "story", "was", "and", "it", "this",
          "a", "director", "ending", "cast", "music"]
POSITIVE_SENTENCE = "A wonderful, brilliant film: I loved it, the cast was superb and amazing."
NEGATIVE_SENTENCE = "An awful, boring movie: I hated it, the worst plot and a terrible waste."


def make_corpus(n: int, seed: int = 0) -> list[tuple[str, int]]:
    """``n`` balanced (text, label) pairs: filler words plus 2-3 words of the label's sentiment,
    with HTML line breaks sprinkled in like real IMDB reviews."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = i % 2
        words = rng.choices(FILLER, k=rng.randint(6, 10))
        words += rng.choices(POSITIVE if label else NEGATIVE, k=rng.randint(2, 3))
        rng.shuffle(words)
        text = " ".join(words)
        if i % 5 == 0:
            text = text.replace(" ", " <br /><br />", 1)
        out.append((text, label))
    return out


def write_acl(root: Path, splits: dict[str, int], seed: int = 0) -> Path:
    """``root/aclImdb/{split}/{pos,neg}/<id>_<rating>.txt`` with ``splits[split]`` reviews each."""
    base = root / "aclImdb"
    for k, (split, n) in enumerate(splits.items()):
        for i, (text, label) in enumerate(make_corpus(n, seed + k)):
            folder = base / split / ("pos" if label else "neg")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{i}_{8 if label else 2}.txt").write_text(text, encoding="utf-8")
    (base / "README").write_text("tiny aclImdb fixture\n", encoding="utf-8")
    return base


def write_csv(path: Path, rows: list[tuple[str, object]], header: tuple[str, str] = ("text", "label")) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# Small model settings that learn the fixture vocabulary in seconds.
TINY_MODEL = ["--max-tokens", "500", "--sequence-length", "32", "--embedding-dim", "16",
              "--hidden-units", "16", "--batch-size", "32", "--learning-rate", "0.01",
              "--epochs", "12", "--patience", "4"]
