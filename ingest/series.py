"""pandas objects built from Python lists without pandas' per-item inspection.

``pd.Series(list_of_str, dtype=object)`` looks at every item (is it a sequence to
unpack?) and took about 115 ns a value; a chunk of 100,000 rows builds dozens of such
columns. ``np.fromiter`` into an object array and a Series over it without a copy take
about 20 ns a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def object_series(values: Sequence[Any], index: pd.Index | None = None) -> pd.Series:
    """A Series of the Python objects in ``values`` (dtype object), in their order."""
    arr = np.fromiter(values, dtype=object, count=len(values))
    return pd.Series(arr, index=index, copy=False)
