"""The store: SQLAlchemy 2 Core tables, the engine factory and Alembic migrations."""
