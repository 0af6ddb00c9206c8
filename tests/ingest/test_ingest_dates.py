"""Dates of a whole column are parsed with fast paths (one replace, one naive parse) that
must agree, value for value, with the plain definition: pandas' ISO 8601 parser in UTC
mode on that value alone, made naive UTC (alone: in one array pandas carries an offset
over to the naive values after it). Columns mix shapes on purpose: one odd value sends
its column down the exact path."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest import validate
from ingest.validate import parse_datetimes

DAYS = ["2025-03-01", "2025-3-1", "20250301", "2025-02-30", "2025-13-01", " 2025-03-01",
        "2025-03-01 ", "=TODAY()", "", "2025", "1999-12-31", "é2025-03-01"]  # fmt: skip
TIMES = ["", "T12", "T12:00", "T12:00:00", " 12:00:00.123", "T12:00:00,5", "T24:00:00",
         "t12:00", "T12:00:00.000", "T1200", " 12", "T120000", "T12:00:00.5", "T12.5"]  # fmt: skip
TAILS = ["", "Z", " Z", "z", "+02:00", "+0200", "+02", "-03:30", " +02:00", "+25:00", "Z ",
         "ZZ", "+02:00Z", "+00:00", "-00:00", "+00", "+02:00:00", "-0330", " -03", "+5",
         "+2:00", "+02:0", "+020", "-1", " Z ", "+02:00 ", "Z\t"]  # fmt: skip
value = st.builds(lambda d, t, z: d + t + z, st.sampled_from(DAYS), st.sampled_from(TIMES),
                  st.sampled_from(TAILS))  # fmt: skip
usual = st.sampled_from(["2025-03-01T08:30:00Z", "2025-03-01T08:30:00.000Z",
                         "2025-03-01 08:30:00+00:00", "2025-03-01", ""])  # fmt: skip


def _alone(v: str) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = pd.to_datetime([v], format="ISO8601", utc=True, errors="coerce")[0]
    return pd.NaT if pd.isna(got) else got.tz_convert(None)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(value, usual), min_size=1, max_size=8))
def test_a_column_parses_as_each_value_alone(values: list[str]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = parse_datetimes(pd.Series(values, dtype=object))
    # pandas warns when one array mixes zones: the column never reaches it that way (a
    # ResourceWarning is another test's connection collected meanwhile, not the parse's)
    assert [str(w.message)[:60] for w in caught if w.category is not ResourceWarning] == []
    for v, g in zip(values, got, strict=True):
        want = _alone(v)
        assert (pd.isna(g) and pd.isna(want)) or g == want, (v, g, want)


def test_the_usual_columns_take_the_fast_path_without_warnings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    z = [f"2025-03-{1 + i % 28:02d}T{i % 24:02d}:00:00Z" for i in range(1000)] + ["2025-02-30"]
    usual = z + ["2025-03-01 08:30:00+00:00", "2025-03-01T08:30:00.000Z", "2025-03-01", ""]

    def value_by_value(values: list[str]) -> None:
        raise AssertionError(f"the usual column went value by value: {values[:3]}")

    with monkeypatch.context() as m:
        m.setattr(validate, "_parse_aware", value_by_value)
        assert parse_datetimes(pd.Series(usual, dtype=object)).notna().sum() == 1003
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = parse_datetimes(pd.Series(z, dtype=object))
    assert str(got[0]) == "2025-03-01 00:00:00" and pd.isna(got[1000])
    offsets = pd.Series(["2025-03-01T12:00:00+02:00", "2025-03-01T12:00:00Z"], dtype=object)
    assert list(parse_datetimes(offsets)) == [pd.Timestamp("2025-03-01 10:00"),
                                              pd.Timestamp("2025-03-01 12:00")]  # fmt: skip
    assert parse_datetimes(pd.Series([], dtype=object)).dtype == np.dtype("datetime64[ns]")
