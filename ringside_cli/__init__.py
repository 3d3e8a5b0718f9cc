"""Ringside's launcher: the `ringside` command (CLI, operator helpers) and the supervisor behind
`ringside up`. It starts the roles; no role imports it."""
