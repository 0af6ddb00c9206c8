"""Chart specs the views embed (plotly JSON), checked without a browser."""

from __future__ import annotations

import json

from api.ui.charts import dark_trend_figure


def test_long_dark_trend_keeps_whole_month_labels() -> None:
    months = [f"{2021 + m // 12}-{m % 12 + 1:02d}" for m in range(66)]
    trend = [
        {"period": p, "dark_share": 0.4, "dark_share_low": 0.3, "dark_share_high": 0.5, "n": 9}
        for p in months
    ]
    spec = json.loads(dark_trend_figure(trend))
    xaxis = spec["layout"]["xaxis"]
    assert xaxis["type"] == "category" and xaxis["automargin"] is True
    assert 0 < xaxis["nticks"] <= 12  # 66 labels side by side were cut to "2021-0"
    assert [p for p in spec["data"][2]["x"]] == months
