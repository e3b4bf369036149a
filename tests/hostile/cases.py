"""The hostile-input corpus: one row per case. Each case is a command line (built against the
:class:`~.world.World` it runs in) and the fragments the one error line must hold: the offending
file name, flag or value."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import pytest

from .world import World, mounted

Argv = Callable[[World], list[str]]


@dataclass(frozen=True)
class Case:
    id: str
    argv: Argv
    needles: tuple[str, ...]
    patch: Callable[[pytest.MonkeyPatch], None] | None = field(default=None)
    within: Callable[[World], AbstractContextManager[object]] | None = field(default=None)  # e.g. a mount


def _runs(w: World) -> list[str]:
    return ["--runs-dir", str(w.runs)]


def cmd(*args: str | Callable[[World], str], runs: bool = True) -> Argv:
    """argv with world-relative parts filled in, plus ``--runs-dir`` (the world's runs)."""
    return lambda w: [*[a(w) if callable(a) else a for a in args], *(_runs(w) if runs else [])]


def image_train(*args: str | Callable[[World], str]) -> Argv:
    return cmd("image", "train", *args)


def f(name: str) -> Callable[[World], str]:
    return lambda w: w.f(name)


def r(app: str, name: str) -> Callable[[World], str]:
    return lambda w: w.run(app, name)


def _empty_yahoo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Yahoo answers, but with no rows (an unknown or delisted ticker)."""
    import pandas as pd
    import yfinance
    from regapps.apps.ts import yahoo

    monkeypatch.setattr(yahoo, "ensure_reachable", lambda *a, **k: None)
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pd.DataFrame())


def _read_only(w: World) -> AbstractContextManager[object]:
    """The world's ``readonly/`` folder on a read-only mount: root cannot write there either."""
    return mounted(w.root / "readonly", "read-only")


def read_only_runs(w: World) -> str:
    return str(w.root / "readonly" / "runs")


DIGITS = ("--dataset", "digits")
GRID = ("--grid", "l2=0,1e-3")

CASES: list[Case] = [
    # --- image: files of every accepted format ---------------------------------------------
    Case("image/missing-data-dir", image_train("--data-dir", f("nope")), ("nope", "does not exist")),
    Case("image/empty-archive", image_train("--data-dir", f("empty.tar.gz")), ("empty.tar.gz",)),
    Case("image/truncated-archive", image_train("--data-dir", f("truncated-cifar.tar.gz")), ("truncated-cifar.tar.gz",)),
    Case("image/corrupt-archive", image_train("--data-dir", f("garbage.tar.gz")), ("garbage.tar.gz",)),
    Case("image/csv-as-archive", image_train("--data-dir", f("table.csv")), ("table.csv", "not a readable tar archive")),
    Case("image/png-as-archive", image_train("--data-dir", f("picture.png")), ("picture.png",)),
    Case("image/crafted-pickle", image_train("--data-dir", f("evil-cifar-python.tar.gz")),
         ("data_batch_1", "unsafe")),
    Case("image/truncated-pickle", image_train("--data-dir", f("cut-pickle-cifar-python.tar.gz")), ("data_batch_3",)),
    Case("image/missing-batch", image_train("--data-dir", f("no-batch5.tar.gz")), ("data_batch_5.bin",)),
    Case("image/truncated-batch-in-folder", image_train("--data-dir", f("cutbatch")), ("data_batch_2.bin", "truncated")),
    Case("image/class-folders-without-images", image_train("--data-dir", f("noimages")), ("noimages", "no images")),
    Case("image/corrupt-png", image_train("--data-dir", f("imgs")), ("broken.png", "not a readable image")),
    Case("image/empty-png", image_train("--data-dir", f("imgs0")), ("zero.png", "not a readable image")),
    # --- image: hyperparameters, names, overrides, config files ----------------------------------
    Case("image/dropout-out-of-range", image_train("--dropout", "1.5"), ("regularization.dropout=1.5",)),
    Case("image/lr-not-a-number", image_train("--learning-rate",), ("--learning-rate",)),
    Case("image/negative-batch-size", image_train("--batch-size", "-3"), ("training.batch_size=-3",)),
    Case("image/zero-time-budget", image_train("--time-budget", "0"), ("training.time_budget_minutes=0",)),
    Case("image/unknown-optimizer", image_train("--optimizer", "adamx"), ("adamx", "adam")),
    Case("image/unknown-schedule", image_train("--schedule", "warp"), ("warp", "cosine")),
    Case("image/unknown-dataset", image_train("--dataset", "mnist"), ("mnist",)),
    Case("image/set-without-value", image_train("--set", "training.epochs"), ("--set", "training.epochs")),
    Case("image/set-without-key", image_train("--set", "=3"), ("--set", "'=3'")),
    Case("image/set-unknown-key", image_train("--set", "model.depth=3"), ("model.depth",)),
    Case("image/set-not-a-number", image_train("--set", "training.epochs=ten"), ("training.epochs='ten'",)),
    Case("image/set-into-scalar", image_train("--set", "training.epochs.x=1"), ("training.epochs",)),
    Case("image/config-missing", image_train("--config", f("none.yaml")), ("none.yaml", "not found")),
    Case("image/config-truncated-yaml", image_train("--config", f("cut.yaml")), ("cut.yaml", "YAML")),
    Case("image/config-corrupt-toml", image_train("--config", f("bad.toml")), ("bad.toml", "TOML")),
    Case("image/config-truncated-json", image_train("--config", f("cut.json")), ("cut.json", "JSON")),
    Case("image/config-empty-json", image_train("--config", f("empty.json")), ("empty.json", "JSON")),
    Case("image/config-not-a-mapping", image_train("--config", f("list.yaml")), ("list.yaml", "mapping")),
    Case("image/config-not-utf8", image_train("--config", f("latin1.yaml")), ("latin1.yaml", "UTF-8")),
    Case("image/config-nested-too-deeply", image_train("--config", f("deep.json")), ("deep.json", "nested")),
    Case("image/config-png", image_train("--config", f("picture.png")), ("picture.png",)),
    Case("image/runs-dir-under-a-file", lambda w: ["image", "train", *DIGITS, "--epochs", "1",
                                                  "--runs-dir", w.f("blocker") + "/runs"], ("blocker",)),
    Case("image/runs-dir-read-only", cmd("image", "train", *DIGITS, "--epochs", "1", "--runs-dir", read_only_runs,
                                         runs=False), ("--runs-dir", "readonly", "read-only file system"), within=_read_only),
    # --- image: values of the wrong shape, in files, --set, --grid, search: and saved runs -------
    Case("image/config-preset-is-a-list", image_train("--config", f("preset-list.yaml")),
         ("model.preset", "valid string", "not a list")),
    Case("image/config-number-is-a-mapping", image_train("--config", f("epochs-mapping.yaml")),
         ("training.epochs", "valid integer", "not a mapping")),
    Case("image/config-section-is-a-number", image_train("--config", f("section-scalar.toml")),
         ("training=5", "expected a section")),
    Case("image/config-number-is-true", image_train("--config", f("epochs-true.json")),
         ("training.epochs=true", "not true or false")),
    Case("image/set-preset-to-a-list", image_train("--set", 'model.preset=["fast"]'), ("model.preset", "not a list")),
    Case("image/set-number-to-a-mapping", image_train("--set", 'training.epochs={"a": 1}'),
         ("training.epochs", "not a mapping")),
    Case("image/set-number-to-true", image_train("--set", "regularization.l2=true"),
         ("regularization.l2=true", "not true or false")),
    Case("image/set-section-to-a-number", image_train("--set", "training=3"), ("training=3", "expected a section")),
    Case("image/config-of-another-version", image_train("--config", lambda w: w.run("image", "oldkeys") + "/config.json"),
         ("unknown key 'training.warmup'",)),
    Case("image/resume-config-of-another-version", cmd("image", "train", "--resume", r("image", "oldkeys"), runs=False),
         ("config.json", "does not fit this version", "training.warmup")),
    Case("image/resume-config-of-another-shape", cmd("image", "train", "--resume", r("image", "oldshape"), runs=False),
         ("config.json", "model.preset", "not a list")),
    Case("image/resume-config-is-a-list", cmd("image", "train", "--resume", r("image", "listcfg"), runs=False),
         ("config.json", "mapping of sections", "not a list")),
    Case("image/resume-meta-is-a-list", cmd("image", "train", "--resume", r("image", "metalist"), runs=False),
         ("config.json", "meta", "mapping")),
    Case("image/monitor-not-logged", image_train(*DIGITS, "--set", "training.monitor=val_auc"),
         ("training.monitor='val_auc'", "val_accuracy")),
    Case("image/one-class-folder", image_train("--data-dir", f("onecls")), ("onecls", "only one class", "'cat'")),
    Case("image/class-split-away", image_train("--data-dir", f("splitaway")),
         ("splitaway", "'bird'", "leaves none of them for training", "validation_split")),
    # --- image: run directories ----------------------------------------------------------------
    Case("image/evaluate-config-is-a-list", cmd("image", "evaluate", r("image", "donelist"), runs=False),
         ("config.json", "expected a JSON object")),
    Case("image/predict-config-is-a-list", cmd("image", "predict", r("image", "donelist"), f("picture.png"), runs=False),
         ("config.json", "expected a JSON object")),
    Case("image/evaluate-text-run", cmd("image", "evaluate", r("text", "done"), runs=False), ("'text'", "'image'")),
    Case("image/evaluate-interrupted-run", cmd("image", "evaluate", r("image", "cut"), runs=False),
         ("cut", "not a finished run", "interrupted")),
    Case("image/predict-running-run", cmd("image", "predict", r("image", "running"), f("picture.png"), runs=False),
         ("running", "not a finished run")),
    Case("image/evaluate-missing-run", cmd("image", "evaluate", f("norun"), runs=False), ("norun", "not found")),
    Case("image/evaluate-lambda-model", cmd("image", "evaluate", r("image", "lambda"), runs=False),
         ("model.keras", "Lambda", "safe_mode")),
    Case("image/predict-lambda-model", cmd("image", "predict", r("image", "lambda"), f("photo.png"), runs=False),
         ("model.keras", "Lambda")),
    Case("image/predict-truncated-model", cmd("image", "predict", r("image", "truncmodel"), f("photo.png"), runs=False),
         ("model.keras",)),
    Case("image/predict-csv-as-image", cmd("image", "predict", r("image", "done"), f("table.csv"), runs=False),
         ("table.csv", "not a readable image")),
    Case("image/evaluate-png-as-data", cmd("image", "evaluate", r("image", "done"), "--data-dir", f("picture.png"), runs=False),
         ("picture.png",)),
    Case("image/resume-finished-run", cmd("image", "train", "--resume", r("image", "done"), runs=False), ("already finished",)),
    Case("image/resume-text-run", cmd("image", "train", "--resume", r("text", "cut"), runs=False), ("'text'", "'image'")),
    Case("image/resume-cv-run", cmd("image", "train", "--resume", r("image", "cvdone"), runs=False), ("cvdone", "cv")),
    Case("image/resume-changed-data", cmd("image", "train", "--resume", r("image", "changed"), runs=False), ("changed",)),
    Case("image/resume-corrupt-checkpoint", cmd("image", "train", "--resume", r("image", "badckpt"), runs=False),
         ("last.keras",)),
    Case("image/resume-with-flags", cmd("image", "train", "--resume", r("image", "cut"), "--epochs", "9", runs=False),
         ("--resume", "training.epochs")),
    # --- image cv and compare -----------------------------------------------------------------------
    Case("image-cv/grid-without-values", cmd("image", "cv", *DIGITS, "--grid", "l2"), ("--grid", "'l2'")),
    Case("image-cv/grid-not-a-number", cmd("image", "cv", *DIGITS, "--grid", "dropout=0.1,abc"), ("dropout", "abc")),
    Case("image-cv/grid-unknown-optimizer", cmd("image", "cv", *DIGITS, "--grid", "optimizer=adam,adamx"), ("adamx",)),
    Case("image-cv/grid-twice", cmd("image", "cv", *DIGITS, *GRID, "--grid", "l2=1"), ("--grid l2", "twice")),
    Case("image-cv/one-fold", cmd("image", "cv", *DIGITS, *GRID, "--folds", "1"), ("--folds",)),
    Case("image-cv/unknown-search", cmd("image", "cv", *DIGITS, *GRID, "--search", "bayes"), ("bayes",)),
    Case("image-cv/zero-iterations", cmd("image", "cv", *DIGITS, *GRID, "--search", "random", "--n-iter", "0"),
         ("--n-iter",)),
    Case("image-cv/empty-search-in-config", cmd("image", "cv", *DIGITS, "--config", f("emptyspace.yaml")),
         ("l2", "no values")),
    Case("image-cv/search-is-a-list", cmd("image", "cv", *DIGITS, "--config", f("search-list.yaml")),
         ("search:", "mapping of keys to lists", "not a list")),
    Case("image-cv/search-value-not-a-list", cmd("image", "cv", *DIGITS, "--config", f("search-scalar.yaml")),
         ("search.l2", "list of values", "not a number")),
    Case("image-cv/search-range-bad-key", cmd("image", "cv", *DIGITS, "--config", f("search-mapping.yaml")),
         ("search.l2", "low, high and log", "'hi'")),
    Case("image-cv/search-log-range-from-zero", cmd("image", "cv", *DIGITS, "--config", f("search-log-zero.yaml")),
         ("search.learning_rate", "':log'", "> 0")),
    Case("image-cv/space-reversed", cmd("image", "cv", *DIGITS, "--space", "learning_rate=1e-2..1e-4:log"),
         ("--space learning_rate=1e-2..1e-4:log", "reversed")),
    Case("image-cv/space-empty-range", cmd("image", "cv", *DIGITS, "--space", "dropout=0.2..0.2"),
         ("--space dropout=0.2..0.2", "empty")),
    Case("image-cv/space-log-from-zero", cmd("image", "cv", *DIGITS, "--space", "l2=0..1e-2:log"),
         ("--space l2=0..1e-2:log", "> 0")),
    Case("image-cv/space-integer-key-float-range", cmd("image", "cv", *DIGITS, "--space", "batch_size=16.5..64"),
         ("training.batch_size", "integer")),
    Case("image-cv/space-range-for-a-category", cmd("image", "cv", *DIGITS, "--space", "optimizer=1..3"),
         ("optimizer.name", "list of values, not a range")),
    Case("image-cv/grid-search-over-a-range", cmd("image", "cv", *DIGITS, "--space", "dropout=0..0.5", "--search", "grid"),
         ("--search grid", "cannot enumerate", "dropout")),
    Case("image-cv/prune-with-grid", cmd("image", "cv", *DIGITS, *GRID, "--search", "grid", "--prune"),
         ("--prune", "random or tpe")),
    Case("image-cv/prune-with-halving", cmd("image", "cv", *DIGITS, "--grid", "l2=0,1e-3", "--search", "halving", "--prune"),
         ("--prune", "random or tpe")),
    Case("image-cv/tpe-zero-iterations", cmd("image", "cv", *DIGITS, "--search", "tpe", "--n-iter", "0"), ("--n-iter",)),
    Case("image-cv/time-budget-zero", cmd("image", "cv", *DIGITS, "--time-budget", "0"), ("--time-budget", "> 0")),
    Case("text-cv/space-unknown-key", cmd("text", "cv", "--csv", f("reviews.csv"), "--space", "lernrate=1e-4..1e-2:log"),
         ("lernrate",)),
    Case("image-cv/search-null-value", cmd("image", "cv", *DIGITS, "--config", f("search-null.yaml")),
         ("search:", "regularization.l2=null", "valid number")),
    Case("image-cv/search-key-twice", cmd("image", "cv", *DIGITS, "--config", f("search-twice.yaml")),
         ("regularization.l2", "twice")),
    Case("image-cv/grid-preset-a-list", cmd("image", "cv", *DIGITS, "--grid", "model.preset=[1],article"),
         ("--grid model.preset", "not a list")),
    Case("image-cv/resume-plan-of-another-shape", cmd("image", "cv", "--resume", r("image", "cvoldplan")),
         ("search.json", "plan.space", "not a list")),
    Case("image-cv/resume-base-without-training", cmd("image", "cv", "--resume", r("image", "cvnotraining")),
         ("search.json", "base.training")),
    Case("image-cv/one-class-folder", cmd("image", "cv", "--data-dir", f("onecls"), *GRID), ("only one class",)),
    Case("image-cv/resume-train-run", cmd("image", "cv", *DIGITS, *GRID, "--resume", r("image", "done")), ("is not a cv run",)),
    Case("image-cv/resume-finished-cv", cmd("image", "cv", *DIGITS, *GRID, "--resume", r("image", "cvdone")),
         ("already finished",)),
    Case("image-compare/unknown-optimizer", cmd("image", "compare", *DIGITS, "--optimizers", "adam,adamz"), ("adamz",)),
    Case("image-compare/name-twice", cmd("image", "compare", *DIGITS, "--regularizers", "l2,l2"),
         ("--regularizers", "twice")),
    Case("image-compare/both-kinds", cmd("image", "compare", *DIGITS, "--optimizers", "sgd", "--regularizers", "l2"),
         ("--optimizers", "--regularizers")),
    # --- text ------------------------------------------------------------------------------------------
    Case("text/missing-csv", cmd("text", "train", "--csv", f("nope.csv")), ("nope.csv", "does not exist")),
    Case("text/empty-csv", cmd("text", "train", "--csv", f("empty.csv")), ("empty.csv", "empty")),
    Case("text/png-as-csv", cmd("text", "train", "--csv", f("picture.png")), ("picture.png",)),
    Case("text/folder-as-csv", cmd("text", "train", "--csv", f("cutbatch")), ("cutbatch", "not a file")),
    Case("text/non-utf8-csv", cmd("text", "train", "--csv", f("latin1.csv")), ("latin1.csv", "UTF-8")),
    Case("text/unterminated-quote-csv", cmd("text", "train", "--csv", f("quote.csv")), ("quote.csv",)),
    Case("text/header-only-csv", cmd("text", "train", "--csv", f("header-only.csv")), ("header-only.csv", "no rows")),
    Case("text/unknown-label", cmd("text", "train", "--csv", f("labels.csv")), ("labels.csv", "maybe")),
    Case("text/missing-column", cmd("text", "train", "--csv", f("reviews.csv"), "--text-col", "review"),
         ("reviews.csv", "'review'", "--text-col")),
    Case("text/empty-data-dir", cmd("text", "train", "--data-dir", f("nothing")), ("nothing", "empty")),
    Case("text/empty-aclimdb-tarball", cmd("text", "train", "--data-dir", f("empty-acl.tar.gz")),
         ("empty-acl.tar.gz", "empty file")),
    Case("text/truncated-aclimdb-tarball", cmd("text", "train", "--data-dir", f("aclImdb_v1.tar.gz")),
         ("aclImdb_v1.tar.gz",)),
    Case("text/csv-as-archive", cmd("text", "train", "--data-dir", f("table.csv")), ("table.csv",)),
    Case("text/non-utf8-review", cmd("text", "train", "--data-dir", f("acl-src")), ("0_8.txt", "UTF-8")),
    Case("text/one-class-folder", cmd("text", "train", "--data-dir", f("oneclass")), ("oneclass", "only negative")),
    Case("text/zero-max-tokens", cmd("text", "train", "--csv", f("reviews.csv"), "--max-tokens", "0"),
         ("model.max_tokens=0",)),
    Case("text/embedding-not-a-number", cmd("text", "train", "--embedding-dim", "x"), ("--embedding-dim",)),
    Case("text/unknown-pooling", cmd("text", "train", "--pooling", "lstm"), ("model.pooling='lstm'",)),
    Case("text/unknown-dataset", cmd("text", "train", "--dataset", "sst2"), ("sst2",)),
    Case("text/config-section-is-a-list", cmd("text", "train", "--config", f("sections-list.yaml")),
         ("training", "expected a section", "not a list")),
    Case("text/set-pooling-to-a-list", cmd("text", "train", "--set", 'model.pooling=["conv"]'),
         ("model.pooling", "not a list")),
    Case("text/runs-dir-read-only", cmd("text", "train", "--csv", f("reviews.csv"), "--runs-dir", read_only_runs,
                                        runs=False), ("--runs-dir", "read-only file system"), within=_read_only),
    Case("text/runs-dir-under-a-file", lambda w: ["text", "train", "--csv", w.f("reviews.csv"), "--epochs", "1",
                                                 "--runs-dir", w.f("blocker") + "/runs"], ("blocker",)),
    Case("text/predict-non-utf8-file", cmd("text", "predict", r("text", "done"), "--file", f("latin1.txt"), runs=False),
         ("latin1.txt", "UTF-8")),
    Case("text/predict-png-file", cmd("text", "predict", r("text", "done"), "--file", f("picture.png"), runs=False),
         ("picture.png",)),
    Case("text/predict-blank-text", cmd("text", "predict", r("text", "done"), "  ", runs=False), ("text 1 is empty",)),
    Case("text/predict-lambda-model", cmd("text", "predict", r("text", "lambda"), "a fine film", runs=False),
         ("model.keras", "Lambda", "safe_mode")),
    Case("text/evaluate-ts-run", cmd("text", "evaluate", r("ts", "done"), runs=False), ("'ts'", "'text'")),
    Case("text/evaluate-config-is-a-list", cmd("text", "evaluate", r("text", "donelist"), runs=False),
         ("config.json", "expected a JSON object")),
    Case("text/predict-config-is-a-list", cmd("text", "predict", r("text", "donelist"), "a fine film", runs=False),
         ("config.json", "expected a JSON object")),
    Case("text/monitor-not-logged", cmd("text", "train", "--dataset", "rt-snippets", "--set", "training.monitor=val_mae"),
         ("training.monitor='val_mae'", "val_auc")),
    Case("text/evaluate-interrupted-run", cmd("text", "evaluate", r("text", "cut"), runs=False), ("not a finished run",)),
    Case("text-cv/grid-unknown-pooling", cmd("text", "cv", "--csv", f("reviews.csv"), "--grid", "model.pooling=lstm,average"),
         ("model.pooling='lstm'",)),
    Case("text-cv/grid-malformed", cmd("text", "cv", "--csv", f("reviews.csv"), "--grid", "=1,2"), ("--grid", "'=1,2'")),
    Case("text-cv/search-is-a-list", cmd("text", "cv", "--csv", f("reviews.csv"), "--config", f("search-list.yaml")),
         ("search:", "not a list")),
    Case("text-cv/resume-image-cv", cmd("text", "cv", "--csv", f("reviews.csv"), *GRID, "--resume", r("image", "cvdone")),
         ("'image'", "'text'")),
    Case("text-compare/empty-list", cmd("text", "compare", "--csv", f("reviews.csv"), "--optimizers", ","),
         ("--optimizers", "at least one")),
    Case("text-compare/unknown-regularizer", cmd("text", "compare", "--csv", f("reviews.csv"), "--regularizers", "dropconnect"),
         ("dropconnect",)),
    # --- time series -------------------------------------------------------------------------------
    Case("ts/ticker-with-path", cmd("ts", "backtest", "--ticker", "../../etc/passwd"), ("data.ticker", "invalid ticker")),
    Case("ts/ticker-empty", cmd("ts", "backtest", "--ticker", ""), ("data.ticker", "invalid ticker")),
    Case("ts/ticker-with-slash", cmd("ts", "forecast", "--ticker", "AAPL/x"), ("data.ticker", "'AAPL/x'")),
    Case("ts/ticker-without-data", cmd("ts", "backtest", "--ticker", "ZZZZQ"), ("ZZZZQ", "no data"), _empty_yahoo),
    Case("ts/sample-unknown-ticker", cmd("ts", "backtest", "--source", "sample", "--ticker", "TSLA"), ("TSLA",)),
    Case("ts/series-too-short", cmd("ts", "backtest", "--csv", f("short.csv")), ("short.csv", "30 rows")),
    Case("ts/missing-csv", cmd("ts", "backtest", "--csv", f("nope.csv")), ("nope.csv", "not found")),
    Case("ts/folder-as-csv", cmd("ts", "backtest", "--csv", f("adir.csv")), ("adir.csv",)),
    Case("ts/empty-csv", cmd("ts", "backtest", "--csv", f("empty.csv")), ("empty.csv", "empty")),
    Case("ts/png-as-csv", cmd("ts", "backtest", "--csv", f("picture.png")), ("picture.png",)),
    Case("ts/non-utf8-csv", cmd("ts", "forecast", "--csv", f("latin1.csv")), ("latin1.csv",)),
    Case("ts/truncated-csv", cmd("ts", "backtest", "--csv", f("cut-series.csv")), ("cut-series.csv",)),
    Case("ts/cut-off-gzip-csv", cmd("ts", "backtest", "--csv", f("cut.csv.gz")), ("cut.csv.gz",)),
    Case("ts/column-twice", cmd("ts", "backtest", "--csv", f("twice.csv")), ("twice.csv", "'Close'", "more than once")),
    Case("ts/non-numeric-price", cmd("ts", "backtest", "--csv", f("words.csv")), ("words.csv", "n/a-price")),
    Case("ts/impossible-date", cmd("ts", "backtest", "--csv", f("baddate.csv")), ("baddate.csv", "2000-02-30")),
    Case("ts/horizon-zero", cmd("ts", "forecast", "--csv", f("long.csv"), "--horizon", "0"), ("model.horizon=0",)),
    Case("ts/lookback-not-a-number", cmd("ts", "backtest", "--lookback", "abc"), ("--lookback",)),
    Case("ts/bad-start-date", cmd("ts", "backtest", "--csv", f("long.csv"), "--start", "2020-13-01"),
         ("data.start", "2020-13-01")),
    Case("ts/unknown-interval", cmd("ts", "backtest", "--interval", "5m"), ("data.interval", "5m")),
    Case("ts/set-ticker-to-a-list", cmd("ts", "backtest", "--set", "data.ticker=[1]"), ("data.ticker", "not a list")),
    Case("ts/set-lookback-to-true", cmd("ts", "backtest", "--set", "model.lookback=true"),
         ("model.lookback=true", "not true or false")),
    Case("ts/config-section-is-a-number", cmd("ts", "backtest", "--config", f("section-scalar.toml")),
         ("training=5", "expected a section")),
    Case("ts/runs-dir-read-only", cmd("ts", "backtest", "--csv", f("long.csv"), "--runs-dir", read_only_runs,
                                      runs=False), ("--runs-dir", "read-only file system"), within=_read_only),
    Case("ts/runs-dir-under-a-file", lambda w: ["ts", "backtest", "--csv", w.f("long.csv"), "--epochs", "1",
                                               "--runs-dir", w.f("blocker") + "/runs"], ("blocker",)),
    Case("ts-cv/grid-out-of-range", cmd("ts", "cv", "--csv", f("long.csv"), "--grid", "model.lookback=1,10"),
         ("model.lookback=1",)),
    Case("ts-cv/grid-empty-values", cmd("ts", "cv", "--csv", f("long.csv"), "--grid", "l2=,"), ("--grid l2",)),
    Case("ts-cv/search-value-not-a-list", cmd("ts", "cv", "--csv", f("long.csv"), "--config", f("search-scalar.yaml")),
         ("search.l2", "list of values")),
    Case("ts-cv/resume-backtest-run", cmd("ts", "cv", "--csv", f("long.csv"), *GRID, "--resume", r("ts", "done")),
         ("not a cv run",)),
    Case("ts-compare/unknown-optimizer", cmd("ts", "compare", "--csv", f("long.csv"), "--optimizers", "sgd,foo"),
         ("foo",)),
]


def case_ids() -> list[str]:
    return [c.id for c in CASES]


def by_id(case_id: str) -> Case:
    return next(c for c in CASES if c.id == case_id)
