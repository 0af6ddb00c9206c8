"""Content hashes of 128 bits: the first 32 hex characters of each stored sha256.

Ingest now stores ``text_hash``, ``content_hash`` and ``row_hash`` as the first 32 hex
characters of the sha256 (``ingest.rows.HASH_CHARS``): at 10^9 texts the chance of a
collision is about 10^-21, and each documents row and its unique index are 96 and 32
bytes smaller, which cut the CPU of a bulk load by about a tenth. The hashes already
stored are cut the same way so that re-ingests still find them and scores keyed on
a text's hash stay attached to it. The columns keep their width.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

HASH_CHARS = 32
COLUMNS = {
    "accounts": ["row_hash"],
    "documents": ["text_hash", "content_hash", "row_hash"],
    "surveys": ["row_hash"],
    "opportunities": ["row_hash"],
    "quarantine": ["row_hash"],
    "sentiment_scores": ["text_hash"],
    "aspect_scores": ["text_hash"],
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        values = {c: sa.func.substr(sa.column(c), 1, HASH_CHARS) for c in columns}
        longer = sa.or_(*(sa.func.length(sa.column(c)) > HASH_CHARS for c in columns))
        op.execute(sa.table(table, *map(sa.column, columns)).update().where(longer).values(values))


def downgrade() -> None:
    pass  # a cut hash cannot be made whole again; 32 characters fit the columns
