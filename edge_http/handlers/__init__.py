"""HTTP handlers: parse → call the core or a provider → render."""
