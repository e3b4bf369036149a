"""The text app's configuration: the shared sections plus ``data`` and ``model``."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field
from regapps.shared.config import ExperimentConfig, Section

Pooling = Literal["average", "conv"]


class TextDataConfig(Section):
    dataset: Literal["imdb", "rt-snippets"] = "imdb"
    data_dir: str | None = Field(None, description="official aclImdb_v1.tar.gz or aclImdb/ folder")
    csv: str | None = Field(None, description="labelled CSV file")
    text_col: str = Field("text", min_length=1, description="CSV text column")
    label_col: str = Field("label", min_length=1, description="CSV label column (0/1 or neg/pos)")


class TextModelConfig(Section):
    """Defaults tuned on a 20% hold-out of the IMDB training reviews (bench/text_accuracy.py):
    a bag of words + bigrams (a large vocabulary matters more than the embedding size), mean
    embedding of the unpadded tokens, heavy dropout because it memorizes the training set
    within 3 epochs."""

    max_tokens: int = Field(500_000, ge=10, le=10_000_000, description="vocabulary size (with bigrams)")
    sequence_length: int = Field(800, ge=1, le=100_000, description="tokens kept per text")
    ngrams: int = Field(2, ge=1, le=3, description="1 = words, 2 = words + bigrams, 3 = + trigrams")
    embedding_dim: int = Field(32, ge=1, le=4096)
    pooling: Pooling = Field("average", description="average (bag of n-grams) or conv (Conv1D + global max)")
    conv_filters: int = Field(128, ge=1, le=4096, description="conv pooling: filters")
    kernel_size: int = Field(5, ge=1, le=64, description="conv pooling: kernel width")
    pooled_dropout: float = Field(0.5, ge=0, lt=1, description="dropout on the pooled text vector")
    hidden_units: int = Field(64, ge=1, le=8192, description="units of the Dense > BN block")
    jit_compile: bool | None = Field(None, description="XLA; None picks per pooling (measured)")


# The text app's own defaults for the shared sections (tuned with bench/text_accuracy.py).
TEXT_DEFAULTS: dict[str, dict[str, Any]] = {
    "regularization": {"batchnorm": True, "dropout": 0.5},
    "optimizer": {"name": "adam", "learning_rate": 5e-4},
    "training": {"epochs": 10, "batch_size": 64, "validation_split": 0.2, "monitor": "val_loss",
                 "patience": 2},
}


class TextConfig(ExperimentConfig):
    """BatchNormalization on by default (the article's text model)."""

    data: TextDataConfig = Field(default_factory=TextDataConfig)
    model: TextModelConfig = Field(default_factory=TextModelConfig)

    @classmethod
    def app_defaults(cls, given: Mapping[str, Any]) -> Mapping[str, Any]:
        return TEXT_DEFAULTS
