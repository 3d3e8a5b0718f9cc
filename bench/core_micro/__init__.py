"""The core alone, without the edge or HTTP: how many calls it can make durable, and how fast.

``in_process`` drives the core's own services (admission, settlement, the group-commit writer) in this
process with many concurrent writers; ``over_grpc`` drives a real ``python -m ringside core`` through
Authorize + Settle round trips. Run: ``python -m bench.core_micro [--backend sqlite|postgres] [--seconds N]``.
"""
