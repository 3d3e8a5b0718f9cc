"""Ringside's Python SDK (the `ringside` distribution).

It carries the gRPC stubs generated from Ringside's protos (`ringside.core.v1`, installed with the
`grpc` extra) for internal services that call the core directly. The server itself is the
`ringside-server` distribution (packages `core`, `edge_http`, `workers`, `ringside_server`,
`ringside_cli`); this package never imports it.
"""

__version__ = "0.1.0"
