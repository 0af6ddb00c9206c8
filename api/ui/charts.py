"""Charts of the role views: plotly figures as JSON for the browser, sparklines as SVG.

Each ``*_figure`` function turns view data (plain dicts) into a plotly figure and
returns its JSON; the page puts it in a ``data-figure`` attribute and the page script
draws it with the plotly.js that the installed ``plotly`` wheel ships (served by
``/ui/static/vendor/plotly.min.js``, never a CDN). Sparklines are tiny inline SVG
polylines computed here, so a list of fifty accounts costs no script at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.ui.formatting import CHANNEL_LABELS

INK, RISK, GOOD, MUTED, DARK = "#1f2937", "#c2410c", "#15803d", "#9ca3af", "#6d28d9"
LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
    "font": {"family": "system-ui, sans-serif", "size": 12, "color": INK},
    "height": 320,
    "legend": {"orientation": "h", "y": -0.25},
}


def _json(data: list[Any], layout: dict[str, Any]) -> str:
    import plotly.graph_objects as go

    return str(go.Figure(data=data, layout={**LAYOUT, **layout}).to_json())


def _band(
    low: Sequence[float | None], value: Sequence[float | None], high: Sequence[float | None]
) -> dict[str, Any]:
    """Asymmetric error bars from interval ends."""
    plus = [None if h is None or v is None else h - v for h, v in zip(high, value, strict=True)]
    minus = [None if lo is None or v is None else v - lo for lo, v in zip(low, value, strict=True)]
    return {
        "type": "data",
        "symmetric": False,
        "array": plus,
        "arrayminus": minus,
        "thickness": 1.5,
    }


def revenue_risk_figure(segments: list[dict[str, Any]], horizon_days: int) -> str:
    """Expected churned ARR per segment with its 90% interval, next to the segment's ARR."""
    import plotly.graph_objects as go

    names = [s["segment"] for s in segments]
    exp = [s["expected_churned_arr"] for s in segments]
    bars = go.Bar(
        x=names,
        y=exp,
        name=f"expected churned ARR ({horizon_days} d)",
        marker_color=RISK,
        error_y=_band([s["low"] for s in segments], exp, [s["high"] for s in segments]),
        hovertemplate="%{x}: $%{y:,.0f}<extra></extra>",
    )
    return _json(
        [bars],
        {
            "title": {"text": f"Revenue at risk by segment, {horizon_days} days (90% interval)"},
            "yaxis": {"title": {"text": "ARR (USD)"}, "tickformat": "$,.0f", "rangemode": "tozero"},
        },
    )


def calibration_figure(models: dict[str, dict[str, Any]], horizon_days: int | None) -> str:
    """Observed churn rate against mean predicted probability, by decile, per model."""
    import plotly.graph_objects as go

    colors = {"full": RISK, "no_text": MUTED, "crm_only": "#0369a1"}
    top = 0.0
    traces: list[Any] = []
    for name, res in models.items():
        cal = res.get("calibration") or []
        if not cal:
            continue
        xs = [c["predicted"] for c in cal]
        ys = [c["observed"] for c in cal]
        top = max(top, *xs, *ys)
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=name.replace("_", " "),
                line={"color": colors.get(name, INK), "width": 2 if name == "full" else 1},
                customdata=[c["accounts"] for c in cal],
                hovertemplate="predicted %{x:.1%}, observed %{y:.1%} (%{customdata} accounts)<extra></extra>",
            )
        )
    top = min(1.0, top * 1.05) or 1.0
    traces.insert(
        0,
        go.Scatter(
            x=[0, top],
            y=[0, top],
            mode="lines",
            name="perfect calibration",
            line={"color": MUTED, "dash": "dot"},
            hoverinfo="skip",
        ),
    )
    h = f"{horizon_days}-day " if horizon_days else ""
    return _json(
        traces,
        {
            "title": {"text": f"Back-test calibration: {h}churn by decile of predicted risk"},
            "xaxis": {"title": {"text": "mean predicted p(churn)"}, "tickformat": ".0%"},
            "yaxis": {"title": {"text": "observed churn rate"}, "tickformat": ".0%"},
        },
    )


def channel_share_figure(channels: list[dict[str, Any]]) -> str:
    """Self-reported share (with its Wilson interval) next to the tracked share, per channel."""
    import plotly.graph_objects as go

    names = [
        CHANNEL_LABELS.get(c["channel"], c["channel"]) + (" *" if c["dark"] else "")
        for c in channels
    ]
    reported = [c["self_reported_share"] for c in channels]
    return _json(
        [
            go.Bar(
                x=names,
                y=reported,
                name="self-reported (95% interval)",
                marker_color=[DARK if c["dark"] else INK for c in channels],
                error_y=_band(
                    [c["self_reported_share_low"] for c in channels],
                    reported,
                    [c["self_reported_share_high"] for c in channels],
                ),
                hovertemplate="%{x}: %{y:.1%}<extra>self-reported</extra>",
            ),
            go.Bar(
                x=names,
                y=[c["tracked_share"] for c in channels],
                name="tracked first touch",
                marker_color=MUTED,
                hovertemplate="%{x}: %{y:.1%}<extra>tracked</extra>",
            ),
        ],
        {
            "title": {"text": "How buyers say they found you vs what tracking recorded (* dark)"},
            "barmode": "group",
            "yaxis": {"title": {"text": "share"}, "tickformat": ".0%", "rangemode": "tozero"},
        },
    )


FUNNEL_STAGES = (("leads", "leads"), ("mqls", "MQLs"), ("sqls", "SQLs"),
                 ("opportunities", "opportunities"), ("won", "won"))  # fmt: skip


def funnel_figure(groups: list[dict[str, Any]], by: str) -> str:
    """The period's stage counts per group, one bar per stage (GET /v1/funnel's groups)."""
    import plotly.graph_objects as go

    names = [CHANNEL_LABELS.get(g["group"], g["group"]) if by == "channel" else g["group"]
             for g in groups]  # fmt: skip
    shades = ("#d1d5db", "#9ca3af", "#6b7280", INK, GOOD)
    bars = [
        go.Bar(
            x=names,
            y=[g[key] for g in groups],
            name=label,
            marker_color=shade,
            hovertemplate=f"%{{x}}: %{{y}} {label}<extra></extra>",
        )
        for (key, label), shade in zip(FUNNEL_STAGES, shades, strict=True)
    ]
    return _json(
        bars,
        {
            "title": {"text": f"Funnel stages of the period by {by}"},
            "barmode": "group",
            "yaxis": {"title": {"text": "count"}, "rangemode": "tozero"},
        },
    )


def dark_trend_figure(trend: list[dict[str, Any]]) -> str:
    """The dark share of answers per period with its 95% band."""
    import plotly.graph_objects as go

    x = [t["period"] for t in trend]
    return _json(
        [
            go.Scatter(
                x=x,
                y=[t["dark_share_high"] for t in trend],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            ),
            go.Scatter(
                x=x,
                y=[t["dark_share_low"] for t in trend],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(109,40,217,0.15)",
                name="95% interval",
                hoverinfo="skip",
            ),
            go.Scatter(
                x=x,
                y=[t["dark_share"] for t in trend],
                mode="lines+markers",
                name="dark share of answers",
                line={"color": DARK},
                customdata=[t["n"] for t in trend],
                hovertemplate="%{x}: %{y:.1%} of %{customdata} answers<extra></extra>",
            ),
        ],
        {
            "title": {"text": "Dark share of self-reported answers, by month"},
            "yaxis": {"tickformat": ".0%", "range": [0, 1]},
            # at most a dozen whole "YYYY-MM" labels, however many months the range holds
            "xaxis": {"type": "category", "nticks": 12, "tickangle": -45, "automargin": True},
        },
    )


def trajectory_figure(points: list[dict[str, Any]]) -> str:
    """Monthly account sentiment, over faint bars of the texts written that month."""
    import plotly.graph_objects as go

    months = [str(p["month"])[:7] for p in points]
    return _json(
        [
            go.Bar(
                x=months,
                y=[p.get("n_texts") or 0 for p in points],
                name="texts written",
                marker_color="#e5e7eb",
                hovertemplate="%{y} texts<extra></extra>",
            ),
            go.Scatter(
                x=months,
                y=[p.get("sentiment") for p in points],
                mode="lines+markers",
                name="sentiment",
                yaxis="y2",
                line={"color": INK},
                connectgaps=False,
                hovertemplate="%{x}: %{y:+.2f}<extra></extra>",
            ),
        ],
        {
            "title": {"text": "Monthly sentiment (P(positive) - P(negative))"},
            "yaxis": {"showgrid": False, "showticklabels": False, "rangemode": "tozero"},
            "yaxis2": {
                "overlaying": "y",
                "side": "left",
                "range": [-1.05, 1.05],
                "tickvals": [-1, -0.5, 0, 0.5, 1],
                "zeroline": True,
                "title": {"text": "sentiment"},
            },
            "xaxis": {"type": "category"},
        },
    )


def drivers_figure(drivers: list[dict[str, Any]]) -> str:
    """Each driver's contribution to the log-hazard (right: raises risk)."""
    import plotly.graph_objects as go

    ordered = sorted(drivers, key=lambda d: abs(d.get("effect") or 0.0))
    effects = [d.get("effect") or 0.0 for d in ordered]
    return _json(
        [
            go.Bar(
                x=effects,
                y=[d.get("feature", "?") for d in ordered],
                orientation="h",
                marker_color=[RISK if e > 0 else GOOD for e in effects],
                customdata=[d.get("text") or "" for d in ordered],
                hovertemplate="%{y}: %{x:+.3f}<br>%{customdata}<extra></extra>",
            )
        ],
        {
            "title": {"text": "Risk drivers: contribution to log-hazard"},
            "height": max(200, 60 + 28 * len(ordered)),
            "margin": {"l": 160, "r": 20, "t": 40, "b": 40},
            "showlegend": False,
        },
    )


def sparkline(
    values: Sequence[float | None],
    width: int = 120,
    height: int = 28,
    lo: float = -1.0,
    hi: float = 1.0,
) -> dict[str, Any]:
    """SVG geometry of a sparkline over a fixed [lo, hi] scale: polyline segments (gaps
    where a month has no value), the zero line and the last point."""
    n = len(values)
    if n == 0:
        return {"width": width, "height": height, "segments": [], "zero_y": None, "last": None}
    step = (width - 4) / max(1, n - 1)

    def y(v: float) -> float:
        return round(2 + (hi - min(hi, max(lo, v))) / (hi - lo) * (height - 4), 1)

    segments: list[str] = []
    current: list[str] = []
    last = None
    for i, v in enumerate(values):
        if v is None:
            if current:
                segments.append(" ".join(current))
            current = []
            continue
        x = round(2 + i * step, 1)
        current.append(f"{x},{y(v)}")
        last = (x, y(v), v)
    if current:
        segments.append(" ".join(current))
    return {"width": width, "height": height, "segments": segments, "zero_y": y(0.0), "last": last}
