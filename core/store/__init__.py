"""Persistence of the core: sqlmodel tables, the group-commit writer, start-up loading, migrations."""
