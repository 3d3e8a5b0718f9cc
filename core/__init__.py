"""The core: the only writer of accounts, keys, customers, the ledger and usage (served over gRPC)."""
