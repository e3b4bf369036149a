"""The image app's configuration: the shared sections plus ``data`` and ``model``."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from regapps.shared.config import (ExperimentConfig, OptimizerConfig, RegularizationConfig,
                                   Section, TrainingConfig)

from .model import PRESETS


class ImageDataConfig(Section):
    dataset: Literal["cifar10", "digits"] = "cifar10"
    data_dir: str | None = Field(None, description="official CIFAR-10 archive/folder or image folders")


class ImageModelConfig(Section):
    preset: str = Field("article", description="model preset: " + ", ".join(PRESETS.names()))

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        if value not in PRESETS.names():
            raise ValueError(f"unknown preset {value!r}; valid: {', '.join(PRESETS.names())}")
        return value


class ImageConfig(ExperimentConfig):
    """Defaults are the article's: L2(1e-3) on every kernel, Dropout(0.5), Adam(1e-3),
    batch 64, up to 50 epochs, 20% validation."""

    data: ImageDataConfig = Field(default_factory=ImageDataConfig)
    model: ImageModelConfig = Field(default_factory=ImageModelConfig)
    regularization: RegularizationConfig = Field(
        default_factory=lambda: RegularizationConfig(l2=1e-3, dropout=0.5))
    optimizer: OptimizerConfig = Field(default_factory=lambda: OptimizerConfig(name="adam", learning_rate=1e-3))
    training: TrainingConfig = Field(
        default_factory=lambda: TrainingConfig(epochs=50, batch_size=64, validation_split=0.2,
                                               monitor="val_loss", patience=10))
