"""The ledger audit: a scheduled workflow that checks the core's double-entry invariants."""
