"""Business rules of the core: pure code, no transport and no I/O."""
