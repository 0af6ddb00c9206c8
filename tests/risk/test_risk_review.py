"""Review findings in the risk layer."""

from __future__ import annotations

import pytest

from risk.errors import RiskInputError
from risk.inputs import to_timestamp


@pytest.mark.parametrize("value", ["NaT", "nat", ""])
def test_a_date_that_is_no_date_is_an_input_error(value: str) -> None:
    with pytest.raises(RiskInputError):
        to_timestamp(value)
