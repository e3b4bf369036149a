"""The image app's configuration: the shared sections plus ``data`` and ``model``."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator
from regapps.shared.config import ExperimentConfig, Section

from .model import PRESETS


class ImageDataConfig(Section):
    dataset: Literal["cifar10", "digits"] = "cifar10"
    data_dir: str | None = Field(None, description="official CIFAR-10 archive/folder or image folders")


class ImageModelConfig(Section):
    preset: str = Field("article", description="model preset: " + ", ".join(PRESETS.names()))
    width: int | None = Field(None, ge=4, le=256, description=(
        "base channel count of the fast preset; unset: 16, or under a time budget the widest "
        "that fits enough epochs on this machine (timed before training)"))
    whiten: bool | None = Field(None, description=(
        "fast preset: a frozen 2x2 patch-whitening first layer, its filters from the training "
        "images' patch covariance (airbench's), in place of the first convolution; unset: on for "
        "images of 3 or more channels, off for grayscale (2x2 patches of one channel give only 8 "
        "filters: measured worse on 8x8 digits)"))

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        if value not in PRESETS.names():
            raise ValueError(f"unknown preset {value!r}; valid: {', '.join(PRESETS.names())}")
        return value


class AugmentConfig(Section):
    flip: bool = Field(False, description="random horizontal flips")
    alternate_flips: bool = Field(False, description=(
        "with flip: flip a seeded half of the images in the first epoch, then each image in "
        "every other epoch (airbench's alternating flip), so every two epochs show each image "
        "both ways, instead of a coin per image and epoch"))
    crop_padding: int = Field(0, ge=0, le=16, description="pad (reflect) and randomly crop back, pixels")
    flip_average: bool = Field(False, description="test-time augmentation: average the predictions "
                                                  "for each image and its mirror image")
    translate_average: bool = Field(False, description="test-time augmentation: also average over each "
                                                       "image shifted by one pixel up-left and down-right")


# Settings a preset brings with it; anything the user gives (file, flags, --set) wins.
# The fast preset's values are a first recipe (ResNet-9-style training), not yet tuned here.
PRESET_DEFAULTS: dict[str, dict[str, Any]] = {
    # the article's: L2(1e-3) on every kernel, Dropout(0.5), Adam(1e-3), batch 64, up to 50 epochs
    "article": {
        "regularization": {"l2": 1e-3, "dropout": 0.5},
        "optimizer": {"name": "adam", "learning_rate": 1e-3},
        "training": {"epochs": 50, "batch_size": 64, "validation_split": 0.2, "monitor": "val_loss",
                     "patience": 10},
    },
    "fast": {
        "regularization": {"l1": 0.0, "l2": 0.0, "dropout": 0.0, "batchnorm": True},
        "optimizer": {"name": "nesterov", "learning_rate": 0.2, "momentum": 0.9, "weight_decay": 5e-3},
        "schedule": {"name": "onecycle", "warmup_epochs": 3},
        "training": {"epochs": 12, "batch_size": 256, "label_smoothing": 0.1, "early_stopping": False,
                     "monitor": "val_accuracy", "validation_split": 0.04, "precision": "auto"},
        "augment": {"flip": True, "crop_padding": 4, "flip_average": True, "translate_average": True},
    },
}


class ImageConfig(ExperimentConfig):
    """The shared sections plus ``data``, ``model`` and ``augment``. Defaults come from the
    chosen preset (``PRESET_DEFAULTS``), merged key by key under whatever the user gives, so
    setting one key of a section never resets the preset's other keys."""

    data: ImageDataConfig = Field(default_factory=ImageDataConfig)
    model: ImageModelConfig = Field(default_factory=ImageModelConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)

    @classmethod
    def app_defaults(cls, given: Mapping[str, Any]) -> Mapping[str, Any]:
        model = given.get("model")
        preset = model.get("preset", "article") if isinstance(model, Mapping) else "article"
        return PRESET_DEFAULTS.get(preset, {})
