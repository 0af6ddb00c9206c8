"""Marketing measurement: the dark funnel, the revenue funnel and its KPI definitions, and
the store reads the media-mix model and the pipeline forecast are built on.

Public interface (each module's docstring says more):

- ``marketing.dark_funnel.measure(engine, date_from, date_to)``: GET /v1/dark-funnel
- ``marketing.funnel.funnel(engine, date_from, date_to, by)``: GET /v1/funnel;
  ``funnel_from_frames`` (DataFrame in), ``funnel_rows`` (downloads), ``funnel_records``
  (provenance)
- ``marketing.definitions.load_definitions()``: the versioned KPI definitions
  (``definitions/kpi.yaml``)
- ``marketing.weekly.weekly_outcome(engine, outcome, start, end)`` and
  ``weekly_spend(engine, start, end, currency)``: weekly series (DataFrame out)
- ``marketing.links.answers_by_opportunity(engine, date_from, date_to)``: answers linked
  to opportunities by account, prospect id or e-mail (DataFrame out); ``link_frame`` the
  same from frames
- ``marketing.frames``: the store's leads, opportunities, answers and spend as frames
- ``marketing.periods``, ``marketing.intervals``, ``marketing.grouping``: periods and
  weeks, Wilson intervals, funnel groups

Layering: ``api -> (risk | marketing) -> nlp -> ingest``. Nothing here imports from
``risk`` or ``api`` (nor does ``risk`` import from here): ``tests/test_layering.py``.
"""
