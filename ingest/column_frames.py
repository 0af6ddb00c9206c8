"""Columns of table rows packed compactly for the trip from a worker process.

A prepared chunk is about twenty lists of 100,000 values. Marshalling them value by
value cost a worker about 4 us a row; most columns are better sent whole:

- a column whose values are all one string (or all None) as that value and a count;
- a column of strings as one NUL-joined string and the positions of its None values
  (cleaned cells never hold NUL; a column that does is sent as a list);
- anything else (integers, floats) as its list.

The receiver rebuilds equal lists: ``decode(encode(cols)) == cols``, types included.
"""

from __future__ import annotations

from typing import Any

_SEP = "\x00"
_CONST, _JOINED, _LIST = 0, 1, 2


def _encode_one(col: list[Any]) -> tuple[Any, ...]:
    n = len(col)
    first = col[0] if n else 0
    if first is not None and type(first) is not str:
        return (_LIST, col)
    if col[-1] == first and col[n // 2] == first and col.count(first) == n:
        return (_CONST, first, n)
    nones: list[int] = []
    try:
        joined = _SEP.join(col)
    except TypeError:  # None among the strings, or another type
        nones = [i for i, v in enumerate(col) if v is None]
        try:
            joined = _SEP.join([v if v is not None else "" for v in col])
        except TypeError:
            return (_LIST, col)
    if joined.count(_SEP) != n - 1:  # a value holds the separator
        return (_LIST, col)
    return (_JOINED, joined, nones)


def encode(columns: list[list[Any]]) -> list[tuple[Any, ...]]:
    """``columns`` as marshal-friendly parts."""
    return [_encode_one(col) for col in columns]


def _decode_one(part: tuple[Any, ...]) -> list[Any]:
    if part[0] == _CONST:
        return [part[1]] * part[2]
    if part[0] == _JOINED:
        values: list[Any] = part[1].split(_SEP)
        for i in part[2]:
            values[i] = None
        return values
    return part[1]  # type: ignore[no-any-return]


def decode(parts: list[tuple[Any, ...]]) -> list[list[Any]]:
    """The columns ``encode`` was given."""
    return [_decode_one(p) for p in parts]
