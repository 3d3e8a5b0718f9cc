"""Application services: domain decisions made durable through the group-commit writer.

No transport here either: servicers in core/rpc/ translate gRPC to these calls.
"""
