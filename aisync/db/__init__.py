"""The catalog database: tables, queries and migrations."""
