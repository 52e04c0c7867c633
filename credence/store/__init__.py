"""The store: schema, engines and migrations. SQLite by default, PostgreSQL by URL."""
