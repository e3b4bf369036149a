"""Property tests: any bytes given to the time-series CSV loader (and the feature preparation
after it) either load as a clean series or raise DataError, never anything else."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from regapps.apps.ts.data import read_csv_series
from regapps.apps.ts.features import prepare
from regapps.shared.errors import DataError

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

HEADERS = ["Date", "Close", "Adj Close", "Open", "High", "Low", "Volume", " Close", "Close ", "close", "", "Date"]
CELLS = ["2020-01-02", "2020-01-03", "2020-01-06", "2001-09-1", "2020-02-30", "0001-01-01", "9999-12-31",
         "1", "0", "-3.5", "1e400", "-inf", "nan", "", "n/a", "x", '"1,5"', "2020-01-02T10:00:00+05:00",
         "\x00", "\u00e9"]


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(st.sampled_from(CELLS), min_size=0, max_size=len(header) + 1),
                         max_size=12))
    sep = draw(st.sampled_from([",", ";", ",,"]))
    end = draw(st.sampled_from(["\n", "\r\n", ""]))
    return "\n".join(sep.join(r) for r in [header, *rows]) + end


def _check(path: Path) -> None:
    try:
        data = read_csv_series(path)
        prep = prepare(data)
    except DataError:
        return
    assert len(data) > 0 and np.isfinite(data.values).all()
    assert data.frame.index.is_monotonic_increasing and data.frame.index.is_unique
    assert len(prep.y) == len(data)


@SETTINGS
@given(st.one_of(st.binary(max_size=2000), csv_text().map(str.encode)))
@example(b"Date,Close\n2020-01-02,1\n2020-01-03,2\n2020-01-0")  # cut off mid-date
@example(b"Date,Close,Close \n2020-01-02,1,2\n")  # the same column twice once stripped
@example("Date,Close\n2020-01-02,1\n".encode("utf-16"))
def test_csv_bytes(tmp_path_factory: object, data: bytes) -> None:
    path = Path(tmp_path_factory.mktemp("ts")) / "prices.csv"  # type: ignore[attr-defined]
    path.write_bytes(data)
    _check(path)


@SETTINGS
@given(st.one_of(st.binary(max_size=500), csv_text().map(lambda t: gzip.compress(t.encode())),
                 csv_text().map(lambda t: gzip.compress(t.encode())[:-9])))
def test_compressed_csv_bytes(tmp_path_factory: object, data: bytes) -> None:
    """pandas decompresses by extension: corrupt and cut-off gzip streams too."""
    path = Path(tmp_path_factory.mktemp("tsgz")) / "prices.csv.gz"  # type: ignore[attr-defined]
    path.write_bytes(data)
    _check(path)
