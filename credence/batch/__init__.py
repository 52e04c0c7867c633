"""Batch engines over a snapshot of the store: DuckDB by default (Spark later, lazily imported)."""
