"""The collector's settings for a serving process (the core, the edge), applied once it serves."""

from __future__ import annotations

import gc

# The collector's youngest generation is collected after this many more allocations than frees
# (CPython's default: 700). In the core a settle's objects live until its commit lands, so with a
# thousand calls waiting on a commit every young collection found them alive, walked them and
# promoted them, to be walked again in the older generations: ~15 µs of CPU a settle at 700, ~2 at
# 20,000 (docs/performance.md, "GC and indexes per settle"). In the edge a stream's objects live
# as long as the stream: at 700, ~0.02–0.1 ms of CPU a call went to young and middle
# collections that found nothing to free (reference counting frees a call's objects), ~0.01 at
# 20,000 (docs/performance.md, "The edge's CPU per stream"). Cycles, rare here, wait a little longer.
YOUNG_GC_THRESHOLD = 20_000


def settle_heap() -> None:
    """Once a process serves: what is alive now (modules, the catalog, the loaded state, the
    server and its clients) lives as long as the process, so it leaves the collector's sight (a full
    collection walked all of it: ~25 µs of CPU a settle at an empty core, ~1/4 of the edge's CPU a
    call), and young collections run less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
