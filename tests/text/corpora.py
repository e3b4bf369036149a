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


# Characters real reviews hold that ASCII-only tokenizers and line-based files trip on: NEL and
# the other separators str.splitlines breaks at, no-break and ideographic spaces, zero-width and
# control characters, a byte-order mark, accented and astral letters.
AWKWARD = ["\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x00", "\x7f",
           "\u00a0", "\u3000", "\u200b", "\ufeff", "\t", "\r", "\u00e9", "\U0001F600", "<br />"]


def make_large_corpus(n: int, seed: int = 0, *, lexicon: int = 30_000, words_per_text: tuple[int, int] = (60, 240),
                      long_every: int = 97) -> list[tuple[str, int]]:
    """``n`` balanced reviews of 60-240 words (``words_per_text``) from a Zipf-distributed lexicon of ``lexicon``
    made-up words (so the words + bigrams vocabulary passes 100,000 terms at 25,000 reviews),
    with sentiment words at a low rate, the :data:`AWKWARD` characters inside and between words
    as in scraped reviews, some all-punctuation texts and very long words."""
    import numpy as np

    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz\u00e9\u00fc\u00df\u0436\u4e2d"
    words = ["".join(rng.choices(letters, k=rng.randint(2, 8))) for _ in range(lexicon)]
    ranks = (np.random.default_rng(seed).zipf(1.3, size=(n, words_per_text[1])) % lexicon).tolist()
    out = []
    for i in range(n):
        label = i % 2
        length = rng.randint(*words_per_text)
        tokens = [words[r] for r in ranks[i][:length]]
        cues = POSITIVE if label else NEGATIVE
        for _ in range(rng.randint(2, 5)):
            tokens[rng.randrange(length)] = rng.choice(cues)
        for _ in range(rng.randint(0, 7)):
            pos = rng.randrange(length)
            tokens[pos] += rng.choice(AWKWARD) + rng.choice(words[:200])
        if i % long_every == 0:
            tokens.append("x" * rng.randint(500, 3000))  # a very long "word"
        text = " ".join(tokens)
        if i % 251 == 0:
            text = "!!! ... ??? -- ;)"  # no token at all once punctuation is stripped
        out.append((text, label))
    return out


def write_acl_pairs(root: Path, splits: dict[str, list[tuple[str, int]]]) -> Path:
    """``root/{split}/{pos,neg}/<id>_<rating>.txt`` for the given (text, label) pairs."""
    for split, pairs in splits.items():
        for label_dir in ("pos", "neg"):
            (root / split / label_dir).mkdir(parents=True, exist_ok=True)
        for i, (text, label) in enumerate(pairs):
            name = f"{split}/{'pos' if label else 'neg'}/{i}_{8 if label else 2}.txt"
            (root / name).write_text(text, encoding="utf-8", newline="")
    return root


def make_morphology_corpus(n: int, seed: int = 0) -> list[tuple[str, int]]:
    """``n`` balanced short texts whose sentiment is only in word stems: each cue word is a
    positive or negative stem with a fresh random ending, so held-out texts' cue words are never
    in a training vocabulary of words, while their character n-grams are."""
    rng = random.Random(seed)
    stems = {1: ["wonderf", "brillian", "superbl", "delightf"], 0: ["terribl", "horribl", "dreadf", "tedious"]}
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = []
    for i in range(n):
        label = i % 2
        tokens = rng.choices(FILLER, k=rng.randint(6, 14))
        for _ in range(2):
            cue = rng.choice(stems[label]) + "".join(rng.choices(letters, k=4))
            tokens.insert(rng.randrange(len(tokens) + 1), cue)
        out.append((" ".join(tokens), label))
    return out
