"""``regapps text``: thin Typer commands over :mod:`regapps.apps.text.task`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from regapps.apps import commands as c
from regapps.apps import options as o
from regapps.apps.spaces import TEXT_SPACES, help_text

app = typer.Typer(help="IMDB sentiment: a naive-Bayes-scaled bag of n-grams with BatchNormalization.",
                  no_args_is_help=True)

DATA, MODEL = "Data", "Model"
Dataset = Annotated[str | None, typer.Option("--dataset", help="imdb (tensorflow-datasets; default) or rt-snippets (offline movie-review snippets).", rich_help_panel=DATA)]
DataDir = Annotated[str | None, typer.Option("--data-dir", help="Official aclImdb_v1.tar.gz or an extracted aclImdb/ folder ({train,test}/{pos,neg}/*.txt).", rich_help_panel=DATA)]
Csv = Annotated[str | None, typer.Option("--csv", help="Labelled CSV (labels 0/1 or neg/pos).", rich_help_panel=DATA)]
TextCol = Annotated[str | None, typer.Option("--text-col", help="CSV text column (default: text).", rich_help_panel=DATA)]
LabelCol = Annotated[str | None, typer.Option("--label-col", help="CSV label column (default: label).", rich_help_panel=DATA)]
MaxTokens = Annotated[int | None, typer.Option("--max-tokens", help="Vocabulary size, n-grams included.", rich_help_panel=MODEL)]
SequenceLength = Annotated[int | None, typer.Option("--sequence-length", help="Tokens kept per text (n-grams included).", rich_help_panel=MODEL)]
Ngrams = Annotated[int | None, typer.Option("--ngrams", help="1 = words, 2 = words + bigrams, 3 = + trigrams.", rich_help_panel=MODEL)]
EmbeddingDim = Annotated[int | None, typer.Option("--embedding-dim", help="Embedding size.", rich_help_panel=MODEL)]
Pooling = Annotated[str | None, typer.Option("--pooling", help="nb (default: naive-Bayes-scaled bag of n-grams, linear score > BatchNorm), average (mean embedding > Dense > BatchNorm) or conv (Conv1D + global max).", rich_help_panel=MODEL)]
NbWeighting = Annotated[bool | None, typer.Option("--nb-weighting/--no-nb-weighting", help="nb: scale each n-gram by its naive-Bayes log-count ratio (off: a plain binary bag of n-grams).", rich_help_panel=MODEL, show_default=False)]
CharNgrams = Annotated[int | None, typer.Option("--char-ngrams", help="nb: a second bag of character 2..N-grams within words, with its own ratios (0: off). Default: 5 when 99% of the training texts have at most 1,000 characters, else off.", rich_help_panel=MODEL)]
MinCount = Annotated[int | None, typer.Option("--min-count", help="nb: leave out n-grams found in fewer training texts.", rich_help_panel=MODEL)]
RefitAll = Annotated[bool | None, typer.Option("--refit-all/--no-refit-all", help="After the first fit, train again on all training texts (validation part too) for as many epochs as the kept model had (the best one's with early stopping); that model is saved (default on).", rich_help_panel=MODEL, show_default=False)]
HiddenUnits = Annotated[int | None, typer.Option("--hidden-units", help="Units of the Dense > BatchNorm block.", rich_help_panel=MODEL)]
RunDir = Annotated[Path, typer.Argument(help="A finished `regapps text train` run directory.")]



TEXT = c.AppCommands(
    name="text", task="regapps.apps.text.task", app_object="TEXT",
    data=(c.Flag("dataset", Dataset, "data.dataset"), c.Flag("data_dir", DataDir, "data.data_dir"),
          c.Flag("csv", Csv, "data.csv"), c.Flag("text_col", TextCol, "data.text_col"),
          c.Flag("label_col", LabelCol, "data.label_col")),
    train=(c.Flag("max_tokens", MaxTokens, "model.max_tokens"),
           c.Flag("sequence_length", SequenceLength, "model.sequence_length"),
           c.Flag("ngrams", Ngrams, "model.ngrams"), c.Flag("embedding_dim", EmbeddingDim, "model.embedding_dim"),
           c.Flag("pooling", Pooling, "model.pooling"), c.Flag("hidden_units", HiddenUnits, "model.hidden_units"),
           c.Flag("nb_weighting", NbWeighting, "model.nb_weighting"), c.Flag("min_count", MinCount, "model.min_count"),
           c.Flag("char_ngrams", CharNgrams, "model.char_ngrams"),
           c.Flag("refit_all", RefitAll, "model.refit_all")),
)
c.add_train(app, TEXT)


@app.command()
def evaluate(
    run_dir: RunDir,
    data_dir: Annotated[str | None, typer.Option("--data-dir", help="Score on this aclImdb archive or folder (its test/ split, else train/) instead of the run's test split.")] = None,
    csv: Annotated[str | None, typer.Option("--csv", help="Score on this labelled CSV.")] = None,
    text_col: Annotated[str, typer.Option("--text-col", help="CSV text column.")] = "text",
    label_col: Annotated[str, typer.Option("--label-col", help="CSV label column.")] = "label",
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Accuracy, precision, recall, F1, ROC AUC and a confusion matrix of a trained model."""

    trained = c.open_trained(TEXT, run_dir)

    def body() -> Any:
        from . import task

        return task.evaluate(trained, data_dir=data_dir, csv=csv, text_col=text_col,
                             label_col=label_col)

    def human(r: dict[str, Any]) -> str:
        m = r["metrics"]["test"]
        auc = "n/a" if m["roc_auc"] is None else f"{m['roc_auc']:.4f}"
        return (f"text evaluate: accuracy {m['accuracy']:.4f}, precision {m['precision']:.4f}, "
                f"recall {m['recall']:.4f}, F1 {m['f1']:.4f}, ROC AUC {auc} on {m['n']} texts "
                f"-> {r['output_dir']}")

    o.run_command(json_, verbose, body, human)


@app.command()
def predict(
    run_dir: RunDir,
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to classify (quote each).")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="UTF-8 file with one text per line.")] = None,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Label (positive/negative) and probability for each text."""

    trained = c.open_trained(TEXT, run_dir)

    def body() -> Any:
        from . import task

        return task.predict(trained, texts or [], file=file)

    def human(r: dict[str, Any]) -> str:
        return "\n".join(f"{p['label']} {p['probability']:.3f}  {_short(p['input'])}"
                         for p in r["predictions"])

    o.run_command(json_, verbose, body, human)


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


c.add_cv(app, TEXT, "Choose hyperparameters by stratified k-fold cross-validation (vocabulary adapted inside "
         "each training fold), refit the best on all training data, score the test split once.",
         spaces=help_text(TEXT_SPACES, "Pooling"))
c.add_compare(app, TEXT, "Train each optimizer or regularizer on the same split, budget and seed; overlaid curves.")
