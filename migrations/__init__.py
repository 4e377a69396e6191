"""Alembic migrations: the schema of the aisync catalog is owned here."""
