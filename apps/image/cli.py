"""``regapps image``: thin Typer commands over :mod:`regapps.apps.image.task`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from regapps.apps import commands as c
from regapps.apps import options as o
from regapps.apps.spaces import IMAGE_SPACES, help_text

app = typer.Typer(help="CIFAR-10 classification: a CNN with L2 and Dropout, trained with Adam.",
                  no_args_is_help=True)

Dataset = Annotated[str | None, typer.Option("--dataset", help="cifar10 (tensorflow-datasets; default) or digits (offline).", rich_help_panel="Data")]
DataDir = Annotated[str | None, typer.Option("--data-dir", help="Official CIFAR-10 archive or folder (binary or python version), or image folders train/<class>/, test/<class>/.", rich_help_panel="Data")]
Preset = Annotated[str | None, typer.Option("--preset", help="Model preset: article (default; the article's CNN) or fast (residual CNN, BatchNorm, augmentation, one-cycle SGD); `regapps image presets` lists them.", rich_help_panel="Model")]
Width = Annotated[int | None, typer.Option("--width", min=4, max=256, help="Base channel count of the fast preset (default 16; under --time-budget, the widest that fits enough epochs here, timed before training).", rich_help_panel="Model")]
Whiten = Annotated[bool | None, typer.Option("--whiten/--no-whiten", help="Fast preset: a frozen 2x2 patch-whitening first layer whose filters come from the training images (airbench's); default on for colour images, off for grayscale.", rich_help_panel="Model", show_default=False)]
RunDir = Annotated[Path, typer.Argument(help="A finished `regapps image train` run directory.")]
AUG = "Augmentation"
Flip = Annotated[bool | None, typer.Option("--flip/--no-flip", help="Random horizontal flips while training.", rich_help_panel=AUG, show_default=False)]
AlternateFlips = Annotated[bool | None, typer.Option("--alternate-flips/--no-alternate-flips", help="With --flip: flip each image in every other epoch (a seeded half in the first) instead of at random (airbench's).", rich_help_panel=AUG, show_default=False)]
CropPadding = Annotated[int | None, typer.Option("--crop-padding", help="Pad by this many pixels and randomly crop back (0 = off).", rich_help_panel=AUG)]
FlipAverage = Annotated[bool | None, typer.Option("--flip-average/--no-flip-average", help="Test-time augmentation: average each image's and its mirror's predictions.", rich_help_panel=AUG, show_default=False)]
TranslateAverage = Annotated[bool | None, typer.Option("--translate-average/--no-translate-average", help="Test-time augmentation: also average over each image shifted one pixel up-left and down-right.", rich_help_panel=AUG, show_default=False)]
LabelSmoothing = Annotated[float | None, typer.Option("--label-smoothing", help="Label smoothing in [0, 1).", rich_help_panel=o.TRAIN)]



IMAGE = c.AppCommands(
    name="image", task="regapps.apps.image.task", app_object="IMAGE",
    data=(c.Flag("dataset", Dataset, "data.dataset"), c.Flag("data_dir", DataDir, "data.data_dir")),
    train=(c.Flag("preset", Preset, "model.preset"), c.Flag("width", Width, "model.width"),
           c.Flag("whiten", Whiten, "model.whiten")),
    train_after=(c.Flag("flip", Flip, "augment.flip"), c.Flag("alternate_flips", AlternateFlips, "augment.alternate_flips"),
                 c.Flag("crop_padding", CropPadding, "augment.crop_padding"),
                 c.Flag("flip_average", FlipAverage, "augment.flip_average"),
                 c.Flag("translate_average", TranslateAverage, "augment.translate_average"),
                 c.Flag("label_smoothing", LabelSmoothing, "training.label_smoothing")),
    cv=(c.Flag("preset", Preset, "model.preset"),), compare=(c.Flag("preset", Preset, "model.preset"),),
)
c.add_train(app, IMAGE)


@app.command()
def presets(json_: o.Json = False, verbose: o.Verbose = False) -> None:
    """List the model presets: their model, the settings each brings, and recorded figures."""

    def body() -> dict[str, Any]:
        from .presets import describe_presets

        return {"presets": describe_presets()}

    def human(r: dict[str, Any]) -> str:
        lines = []
        for p in r["presets"]:
            lines += [f"{p['name']}: {p['model']}",
                      "  settings: " + ", ".join(f"{k}={v}" for k, v in p["settings"].items())]
            lines += [f"  recorded: {f['figure']} [{f['source']}; on {f['machine']}]" for f in p["recorded"]]
            if not p["recorded"]:
                lines.append("  recorded: nothing yet")
        return "\n".join(lines)

    o.run_command(json_, verbose, body, human, tensorflow=False)


@app.command()
def evaluate(
    run_dir: RunDir,
    data_dir: Annotated[str | None, typer.Option("--data-dir", help="Score on this labelled set instead of the run's test split.")] = None,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Accuracy, per-class accuracy and a confusion matrix of a trained model."""

    trained = c.open_trained(IMAGE, run_dir)

    def body() -> Any:
        from . import task

        return task.evaluate(trained, data_dir=data_dir)

    def human(r: dict[str, Any]) -> str:
        m = r["metrics"]["test"]
        worst = sorted((v, k) for k, v in m["per_class_accuracy"].items() if v is not None)[:3]
        return (f"image evaluate: accuracy {m['accuracy']:.4f}, macro F1 {m['macro_f1']:.4f} on "
                f"{m['n']} images; weakest classes: "
                + ", ".join(f"{k} {v:.2f}" for v, k in worst) + f" -> {r['output_dir']}")

    o.run_command(json_, verbose, body, human)


@app.command()
def predict(
    run_dir: RunDir,
    images: Annotated[list[Path], typer.Argument(help="Image files (png, jpg, ...).")],
    top: Annotated[int, typer.Option("--top", min=1, help="How many classes to list per image.")] = 3,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Top classes with probabilities for each image."""

    trained = c.open_trained(IMAGE, run_dir)

    def body() -> Any:
        from . import task

        return task.predict(trained, images, top=top)

    def human(r: dict[str, Any]) -> str:
        return "\n".join(
            f"{p['input']}: " + ", ".join(f"{t['label']} {t['probability']:.3f}" for t in p["top"])
            for p in r["predictions"])

    o.run_command(json_, verbose, body, human)


c.add_cv(app, IMAGE, "Choose hyperparameters by stratified k-fold cross-validation on the training split, refit "
         "the best on all training data, score the test split once, and write a report.",
         spaces=help_text(IMAGE_SPACES, "Preset"))
c.add_compare(app, IMAGE, "Train each optimizer or regularizer on the same split, budget and seed; overlaid curves.")
