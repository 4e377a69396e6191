"""The read side: the `Catalog` API and the report queries, records and exports behind it."""
