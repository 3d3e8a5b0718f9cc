"""The `ringside` command's groups that speak to the HTTP API as the given key."""
