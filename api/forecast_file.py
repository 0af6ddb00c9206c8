"""The pipeline forecast as a download (``GET /v1/forecast?format=csv|parquet`` and the
finance view's ``/ui/forecast.csv`` / ``/ui/forecast.parquet``).

One row per forecast week (``period`` = ``week``: its Monday to its Sunday) and one for
the whole horizon (``period`` = ``total``), each with P10/P50/P90; under assumptions the
total row also carries the base plan's total and the change (``base_*``, ``change_*``,
drawn with the same random numbers, ``marketing.forecast``). Every row names the forecast,
its measurement run, model and KPI definitions versions, and the assumptions as written.
Text cells that a spreadsheet would run as a formula are neutralised as in the churn feed
(``api.feed_formats``), in Parquet as in CSV.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from api.feed_formats import CSV_MEDIA_TYPE, PARQUET_MEDIA_TYPE, neutralize, to_csv, to_parquet

FORECAST_COLUMNS = [
    "forecast_id", "measurement_run_id", "as_of", "outcome", "model_version",
    "measurement_status", "definitions_version", "assumptions", "period", "from", "to",
    "p10", "p50", "p90", "base_p10", "base_p50", "base_p90", "change_p10", "change_p50",
    "change_p90",
]  # fmt: skip
MEDIA_TYPES = {"csv": CSV_MEDIA_TYPE, "parquet": PARQUET_MEDIA_TYPE}
_HEAD = ("forecast_id", "measurement_run_id", "as_of", "outcome", "model_version",
         "measurement_status", "definitions_version")  # fmt: skip


def _sunday(monday: str) -> str:
    return (date.fromisoformat(monday) + timedelta(days=6)).isoformat()


def forecast_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Flat rows of a ``run_forecast`` result (``FORECAST_COLUMNS``)."""
    head = {k: result.get(k) for k in _HEAD}
    head["assumptions"] = "; ".join(a["text"] for a in result.get("assumptions") or [])
    rows = [
        {**head, "period": "week", "from": w["week"], "to": _sunday(w["week"]),
         **{q: w[q] for q in ("p10", "p50", "p90")}}
        for w in result["weeks"]
    ]  # fmt: skip
    total = {**head, "period": "total", "from": result["weeks"][0]["week"],
             "to": _sunday(result["weeks"][-1]["week"]), **result["total"]}  # fmt: skip
    for name, q in (
        ("base", (result.get("base") or {}).get("total")),
        ("change", result.get("change")),
    ):
        for k in ("p10", "p50", "p90"):
            total[f"{name}_{k}"] = (q or {}).get(k)
    return [*rows, total]


def forecast_file(result: dict[str, Any], fmt: str) -> tuple[bytes, dict[str, str]]:
    """The forecast as CSV or Parquet bytes, and the download's headers."""
    rows = forecast_rows(result)
    if fmt == "csv":
        body = to_csv(rows, FORECAST_COLUMNS)
    else:  # text neutralised as in CSV; numbers keep their Parquet types
        safe = [{c: neutralize(r.get(c)) if isinstance(r.get(c), str) else r.get(c)
                 for c in FORECAST_COLUMNS} for r in rows]  # fmt: skip
        body = to_parquet(safe, FORECAST_COLUMNS)
    name = f"forecast-{result['outcome']}-{result['weeks'][0]['week']}-{len(result['weeks'])}w"
    return body, {
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
        "X-Forecast-Id": str(result["forecast_id"]),
        "X-Measurement-Run-Id": str(result["measurement_run_id"]),
        "X-Definitions-Version": str(result["definitions_version"]),
    }
