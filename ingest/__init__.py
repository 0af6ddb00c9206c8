"""Undertow's bottom layer: canonical records, the store, adapters, validation, quarantine.

Nothing here imports from ``nlp``, ``risk`` or ``api``.
"""
