"""Time-series data: one place per source (bundled sample, CSV, yfinance in :mod:`.yahoo`) and
one cleaning step that every source goes through.

Missing-value policy (stated in every run's notes when it applies):
- a row whose target is missing is dropped: returns are taken between consecutive quoted rows;
- a missing Open/High/Low/Close/Volume value is carried forward from the previous row (never
  filled backwards, which would leak the future); leading rows still missing are dropped;
- calendar gaps are not filled: the series is a sequence of observations; a gap much longer
  than the usual spacing is reported.
"""
from __future__ import annotations

import csv
import hashlib
import logging
import lzma
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from regapps.shared.environment import cache_dir
from regapps.shared.errors import DataError, DataParameterError
from regapps.shared.pkgdata import PackagedFile, fetch_packaged_file

from .config import TsDataConfig

log = logging.getLogger(__name__)

SAMPLE = PackagedFile(
    requirement="bokeh-sampledata==2026.1",
    archive="bokeh_sampledata-2026.1-py3-none-any.whl",
    archive_sha256="f40331a40ca30c64a1c1471835aad9006b61b0d9731a3f649ee8cbbf48d3822f",
    members=("bokeh_sampledata/_data/stocks.csv.gz",),
    sha256="5abadf99b2d394f920120a27de6f0df129859d71d4cfb0bf661bcc99446ab1fd",
    cache_name="bokeh-sampledata-2026.1-stocks.csv.gz",
    binary=True,
)
SAMPLE_TICKERS = ("AAPL", "IBM", "MSFT", "GOOG")


def _vega(member: str, sha256: str) -> PackagedFile:
    return PackagedFile(requirement="vega_datasets==0.9.0", archive="vega_datasets-0.9.0-py3-none-any.whl",
                        archive_sha256="3d7c63917be6ca9b154b565f4779a31fedce57b01b5b9d99d8a34a7608062a1d",
                        members=(f"vega_datasets/_data/{member}",), sha256=sha256,
                        cache_name=f"vega_datasets-0.9.0-{member}", binary=True)


DEFAULT_WEATHER = "seattle-daily"
# name -> (packaged file, default target, what it is)
WEATHER = {
    "seattle-daily": (_vega("seattle-weather.csv", "62f0609f787158128aa2bd102967173a4953122dd4f872bf1d502cae1037df0b"),
                      "temp_max", "daily Seattle weather 2012-2015 (vega_datasets 0.9.0, NOAA)"),
    "seattle-hourly": (_vega("seattle-temps.csv", "c220666521ff4bec4ffb6f0d9acfdc5c1056564b1aad6f78d3b06aa0a0c8b085"),
                       "temp", "hourly Seattle temperature 2010 (vega_datasets 0.9.0, NOAA)"),
}
WEATHER_HINT = ("the offline weather series (--source weather) are fetched from the package index "
                "once, then cached; until then use --csv PATH --date-col D --target-col T with any "
                "dated series (or point pip at a reachable index: PIP_INDEX_URL)")
SAMPLE_HINT = ("the offline sample prices (--source sample) are fetched from the package index "
               "once, then cached; until then use --csv PATH with a Yahoo-format download or any "
               "dated series (or point pip at a reachable index: PIP_INDEX_URL)")
PRICE_COLUMNS = {"Open": "open", "High": "high", "Low": "low", "Close": "close", "Volume": "volume"}
MISSING_TOKENS = {"", "null", "nan", "na", "n/a", "none", "-"}
COMPRESSED = {".gz", ".bz2", ".zip", ".xz", ".zst", ".tar"}
EXOG = "x:"  # frame columns holding --features inputs
GAP_FACTOR = 10  # a gap this many times the median spacing (and over a week) is reported


@dataclass
class TsData:
    """A cleaned series: sorted unique dates, a positive-or-not float ``target`` column and,
    when the source has them, ``open/high/low/close/volume``."""

    frame: pd.DataFrame
    source: str
    target_name: str
    notes: list[str] = field(default_factory=list)

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.frame.index)

    @property
    def values(self) -> np.ndarray:
        return self.frame["target"].to_numpy(dtype=np.float64)

    @property
    def exogenous(self) -> list[str]:
        """The ``--features`` columns kept from the source, in the order given."""
        return [c.removeprefix(EXOG) for c in self.frame.columns if c.startswith(EXOG)]

    def __len__(self) -> int:
        return len(self.frame)

    def checksum(self) -> str:
        digest = hashlib.sha256(pd.DatetimeIndex(self.frame.index).as_unit("s").asi8.tobytes())
        digest.update(np.ascontiguousarray(self.frame.to_numpy(dtype=np.float64)).tobytes())
        return digest.hexdigest()


def load_series(cfg: TsDataConfig, *, cache: Path | None = None) -> TsData:
    """Load, clean and date-slice the configured series."""
    root = Path(cache or cache_dir())
    if cfg.csv is not None or cfg.source == "csv":
        if not cfg.csv:
            raise DataParameterError("source", "{param} csv needs {csv} PATH")
        data = read_csv_series(Path(cfg.csv), date_col=cfg.date_col, target_col=cfg.target_col,
                               features=cfg.features)
    elif cfg.source == "sample":
        data = load_sample(cfg.ticker, root, target_col=cfg.target_col, features=cfg.features)
    elif cfg.source == "weather":
        data = load_weather(cfg.series or DEFAULT_WEATHER, root, target_col=cfg.target_col,
                            features=cfg.features)
    else:
        from .yahoo import load_yahoo

        raw = load_yahoo(cfg.ticker, cfg.interval, root, refresh_hours=cfg.refresh_hours)
        data = clean_frame(raw, f"yfinance {cfg.ticker} ({cfg.interval})", date_col="Date",
                           target_col=cfg.target_col, features=cfg.features)
    return slice_dates(data, cfg.start, cfg.end)


def load_sample(ticker: str, cache: Path, *, target_col: str | None = None,
                features: list[str] | None = None) -> TsData:
    """Daily prices bundled in the pinned bokeh-sampledata wheel (Quandl WIKI, public domain)."""
    if ticker not in SAMPLE_TICKERS:
        raise DataError(f"the sample source has no ticker {ticker!r}; valid: {', '.join(SAMPLE_TICKERS)}")
    path = fetch_packaged_file(SAMPLE, cache, hint=SAMPLE_HINT)
    frame = pd.read_csv(path, compression="gzip", dtype=str, keep_default_na=False)
    frame = frame[frame["Ticker"] == ticker].drop(columns="Ticker")
    return clean_frame(frame, f"sample {ticker} (bokeh-sampledata 2026.1, Quandl WIKI)",
                       date_col="Date", target_col=target_col, features=features)


def load_weather(series: str, cache: Path, *, target_col: str | None = None,
                 features: list[str] | None = None) -> TsData:
    """Seattle weather from the pinned vega_datasets wheel: daily (2012-2015; temp_max,
    temp_min, precipitation, wind; target temp_max) or hourly (2010; temp)."""
    if series not in WEATHER:
        raise DataError(f"no weather series {series!r}; valid: {', '.join(WEATHER)}")
    spec, target, what = WEATHER[series]
    path = fetch_packaged_file(spec, cache, hint=WEATHER_HINT)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return clean_frame(frame, f"weather {series}: {what}", date_col="date",
                       target_col=target_col or target, features=features)


def read_csv_series(path: Path, *, date_col: str | None = None, target_col: str | None = None,
                    features: list[str] | None = None) -> TsData:
    """A Yahoo-format CSV (Date, Open, High, Low, Close, Adj Close, Volume) or any CSV with a
    date column and a numeric target column."""
    if not path.is_file():
        raise DataError(f"CSV file not found: {path}" if not path.exists() else f"{path} is not a file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path} is empty") from exc
    except (ValueError, EOFError, zlib.error, zipfile.BadZipFile, lzma.LZMAError) as exc:
        # parser and decoding errors, and corrupt or cut-off compressed files (by extension)
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path} is not a readable CSV file: {first}") from exc
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    _refuse_cut_off(path, len(frame.columns))
    return clean_frame(frame, str(path), date_col=date_col, target_col=target_col, features=features)


def _refuse_cut_off(path: Path, columns: int) -> None:
    """A last line with no newline and fewer fields than the header is a cut-off download, not a
    shorter series: refuse it rather than parse a half-written date such as ``2001-09-1``."""
    if path.suffix.lower() in COMPRESSED:
        return
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - 4096))
        tail = handle.read()
    if not tail or tail.endswith((b"\n", b"\r")) or b"\n" not in tail:
        return
    last = tail.rsplit(b"\n", 1)[1].decode("utf-8", "replace")
    fields = next(csv.reader([last]), [])
    if len(fields) < columns:
        raise DataError(f"{path} looks cut off: its last line {last[:40]!r} has {len(fields)} of "
                        f"{columns} fields and no line end")


def clean_frame(raw: pd.DataFrame, where: str, *, date_col: str | None = None,
                target_col: str | None = None, features: list[str] | None = None) -> TsData:
    """Validate and normalise a raw string frame; see the module docstring for the policy."""
    columns = [str(c).strip() for c in raw.columns]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise DataError(f"{where} has the column {repeated[0]!r} more than once")
    raw = raw.set_axis(columns, axis=1)
    date_name = date_col or "Date"
    if date_name not in raw.columns:
        raise DataError(f"{where} has no date column {date_name!r} (columns: "
                        f"{', '.join(columns[:12])}); pass --date-col")
    target_name = target_col or next((c for c in ("Adj Close", "Close") if c in raw.columns), None)
    if target_name is None or target_name not in raw.columns:
        wanted = target_col or "Adj Close or Close"
        raise DataError(f"{where} has no target column {wanted!r} (columns: "
                        f"{', '.join(columns[:12])}); pass --target-col")
    for name in features or ():
        if name not in raw.columns:
            raise DataError(f"{where} has no feature column {name!r} (columns: "
                            f"{', '.join(columns[:12])}); check --features")
        if name in (target_name, date_name):
            raise DataError(f"--features {name!r} is the {'target' if name == target_name else 'date'} "
                            "column; the target's past is always an input")
    if len(raw) == 0:
        raise DataError(f"{where} has no rows")
    notes: list[str] = []
    dates = _parse_dates(raw[date_name], where, date_name, notes)
    frame = pd.DataFrame(index=dates)
    frame["target"] = _numeric(raw[target_name], where, target_name)
    for name, key in PRICE_COLUMNS.items():
        if name in raw.columns and name != target_name:
            frame[key] = _numeric(raw[name], where, name)
    if target_name == "Close":
        frame["close"] = frame["target"]
    for name in features or ():
        frame[EXOG + name] = _numeric(raw[name], where, name)
    frame.index.name = "date"
    duplicated = frame.index[frame.index.duplicated()]
    if len(duplicated):
        raise DataError(f"{where} has duplicated dates ({len(duplicated)}, first "
                        f"{duplicated[0].date()}); remove them or aggregate first")
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index()
        notes.append(f"{where}: dates were not in order; sorted them")
    frame = _apply_missing_policy(frame, notes)
    if len(frame) == 0:
        raise DataError(f"{where} has no rows with a {target_name!r} value")
    _report_gaps(frame.index, where, notes)
    for note in notes:
        log.warning(note)
    return TsData(frame=frame, source=where, target_name=target_name, notes=notes)


# How a date's day part is written: each family reads its own way, and a column may not mix them
# (per element, "05/01/2020" beside "2020-01-31" would be read month first and "31/01/2020" day
# first: days and months swapped without a word).
SLASHED = "day or month first (31/01/2020, 01/31/2020)"
DATE_FAMILIES = {
    "year first (2020-01-31)": re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$"),
    SLASHED: re.compile(r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$"),
    "compact (20200131)": re.compile(r"^\d{8}$"),
}
OTHER_DATES = "another form (a month name, ...)"


def _parse_dates(column: pd.Series, where: str, name: str, notes: list[str]) -> pd.DatetimeIndex:
    """Dates keep their local wall-clock time: a trailing UTC offset (yfinance writes
    ``2020-01-02 00:00:00-05:00``) is dropped rather than converted, so days stay days.

    A column writes its dates one way: mixed forms (``2020-01-31`` beside ``31/01/2020``) are
    refused, naming the first row of each. Day-or-month-first dates are read day first when a
    first field is above 12, month first otherwise (with a note when nothing tells them apart);
    a column whose fields say both is refused."""
    text = column.astype(str).str.strip()
    naive = text.str.replace(r"(?:[+-]\d{2}:?\d{2}|Z)$", "", regex=True)
    parsed = pd.to_datetime(naive, errors="coerce", format="mixed")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{where}: {name} value {text.iloc[row]!r} (data row {row + 1}) is not a date")
    day_part = naive.str.split(r"[ T]", n=1, regex=True).str[0]
    family = pd.Series(OTHER_DATES, index=day_part.index)
    for label, pattern in reversed(DATE_FAMILIES.items()):
        family[day_part.str.match(pattern).to_numpy()] = label
    forms = list(dict.fromkeys(family))
    if len(forms) > 1:
        rows = [int(np.argmax((family == form).to_numpy())) for form in forms]
        firsts = [f"{form} from data row {row + 1} ({text.iloc[row]!r})" for form, row in zip(forms, rows, strict=True)]
        raise DataError(f"{where}: column {name!r} mixes date forms, so days and months could be "
                        f"swapped: {'; '.join(firsts[:3])}; write every date one way (YYYY-MM-DD)")
    if forms == [SLASHED] and _day_first(day_part, where, name, notes):
        parsed = pd.to_datetime(naive, errors="coerce", format="mixed", dayfirst=True)
    return pd.DatetimeIndex(parsed)


def _day_first(day_part: pd.Series, where: str, name: str, notes: list[str]) -> bool:
    """Whether ``31/01/2020``-style dates put the day first: a first field above 12 says so, a
    second field above 12 says month first, both (in different rows) is a contradiction."""
    fields = day_part.str.split(r"[-/.]", n=2, expand=True, regex=True)[[0, 1]].astype(int)
    day_first, month_first = (fields[0] > 12).to_numpy(), (fields[1] > 12).to_numpy()
    if day_first.any() and month_first.any():
        a, b = int(np.argmax(day_first)), int(np.argmax(month_first))
        raise DataError(f"{where}: column {name!r} has dates with the day first (data row {a + 1}: "
                        f"{day_part.iloc[a]!r}) and with the month first (data row {b + 1}: "
                        f"{day_part.iloc[b]!r}); write every date one way (YYYY-MM-DD)")
    if not day_first.any() and not month_first.any():
        notes.append(f"{where}: column {name!r} has dates such as {day_part.iloc[0]!r} that read either "
                     "way; read them month first (MM/DD/YYYY)")
    return bool(day_first.any())


def _numeric(column: pd.Series, where: str, name: str) -> np.ndarray:
    text = column.astype(str).str.strip()
    missing = text.str.lower().isin(MISSING_TOKENS).to_numpy()
    values = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) & ~missing
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{where}: column {name!r} has a non-numeric value {text.iloc[row]!r} "
                        f"(data row {row + 1})")
    if np.isinf(values).any():
        raise DataError(f"{where}: column {name!r} has infinite values")
    return values


def _apply_missing_policy(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    missing_target = int(frame["target"].isna().sum())
    if missing_target:
        frame = frame[frame["target"].notna()]
        notes.append(f"dropped {missing_target} rows with a missing target value "
                     "(returns are taken between consecutive quoted rows)")
    empty = [c for c in frame.columns if c != "target" and frame[c].isna().all()]
    if empty:
        frame = frame.drop(columns=empty)
        notes.append(f"column(s) {', '.join(empty)} have no values; not used")
    others = [c for c in frame.columns if c != "target"]
    if others and frame[others].isna().to_numpy().any():
        filled = int(frame[others].isna().sum().sum())
        frame = frame.copy()
        frame[others] = frame[others].ffill()  # forward only: never fill from the future
        still = frame[others].isna().any(axis=1).to_numpy()
        lead = int(np.argmax(~still))  # after ffill, only leading rows can still be missing
        frame = frame.iloc[lead:]
        notes.append(f"carried {filled} missing open/high/low/close/volume values forward "
                     f"from earlier rows" + (f"; dropped {lead} leading rows" if lead else ""))
    return frame


def _report_gaps(index: pd.Index, where: str, notes: list[str]) -> None:
    if len(index) < 3:
        return
    steps = np.diff(pd.DatetimeIndex(index).as_unit("s").asi8) / 86_400.0
    median = float(np.median(steps))
    worst = int(np.argmax(steps))
    if steps[worst] > max(7.0, GAP_FACTOR * median):
        notes.append(f"{where}: largest gap is {steps[worst]:.0f} days ({index[worst].date()} to "
                     f"{index[worst + 1].date()}); gaps are not filled")


def slice_dates(data: TsData, start: str | None, end: str | None) -> TsData:
    frame = data.frame
    if start:
        frame = frame[frame.index >= pd.Timestamp(start)]
    if end:
        frame = frame[frame.index <= pd.Timestamp(end)]
    if len(frame) == 0:
        raise DataError(f"{data.source} has no rows between {start or 'the start'} and {end or 'the end'}")
    return TsData(frame=frame, source=data.source, target_name=data.target_name, notes=data.notes)
