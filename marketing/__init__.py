"""Marketing measurement: the dark funnel, the revenue funnel and its KPI definitions, and
the store reads the media-mix model and the pipeline forecast are built on.

Layering: ``api -> (risk | marketing) -> nlp -> ingest``. Nothing here imports from
``risk`` or ``api`` (nor does ``risk`` import from here): ``tests/test_layering.py``.
"""
