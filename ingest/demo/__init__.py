"""The demo world: a deterministic, realistic set of customer files with a known truth.

``build_world(accounts=400, months=24, seed=7, corpus=None, end=None)`` simulates
accounts, their latent health and churn, and what they write; ``write_world(world, dir)``
writes one canonical-column CSV per source kind plus ``truth.csv``. Modules: ``firms``
(accounts), ``dynamics`` (health and churn), ``activity`` (tickets, reviews, NPS,
opportunities), ``phrasebank`` and ``texts`` (words), ``corpus`` (``--corpus``),
``attribution`` (first touches and answers), ``timeline``, ``world``, ``writers``.
"""

from ingest.demo.world import KINDS, TRUTHS, World, build_world
from ingest.demo.writers import write_world

__all__ = ["KINDS", "TRUTHS", "World", "build_world", "write_world"]
