"""Memory and disk per chunk of the embedded index (qdrant-edge-py: Qdrant's own segment code), the
input of docs/scaling.md's "Qdrant memory per million chunks".

    python -m bench.rag_memory [--points 100000] [--text-chars 600]

Loads `--points` 384-d unit vectors (the local model's size) with a payload like an ingested
chunk's (`--text-chars` of text: the local MiniLM's 128-token chunks are ~600 characters of
English; OpenAI's 800-token `auto` chunks for larger models ~3,200),
builds the HNSW graph, and prints the process's resident memory growth and the index's bytes on
disk, per point and scaled to a million.
"""

from __future__ import annotations

import argparse
import gc
import pathlib
import tempfile

from bench.rag_search import unit_vectors
from rag.index import MAX_POINTS_PER_UPSERT, IndexPoint, index_name, open_indexes


def resident_bytes() -> int:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def disk_bytes(root: pathlib.Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--text-chars", type=int, default=600)
    options = parser.parse_args()
    text = ("lorem ipsum dolor sit amet " * (options.text_chars // 27 + 1))[: options.text_chars]
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        indexes = open_indexes(path=root)
        name = index_name("vs_memory", 1)
        indexes.create(name, 384)
        gc.collect()
        before = resident_bytes()
        for start in range(0, options.points, MAX_POINTS_PER_UPSERT):
            count = min(MAX_POINTS_PER_UPSERT, options.points - start)
            vectors = unit_vectors(count, seed=start)
            indexes.upsert(
                name,
                [
                    IndexPoint(
                        id=f"00000000-0000-4000-8000-{start + offset:012d}",
                        vector=vectors[offset].tolist(),
                        file_id=f"file-{(start + offset) // 100}",
                        chunk_index=(start + offset) % 100,
                        text=text,
                        filename="document.pdf",
                        attributes={"team": "search", "year": 2026},
                    )
                    for offset in range(count)
                ],
            )
        indexes.optimize(name)
        gc.collect()
        grown = resident_bytes() - before
        on_disk = disk_bytes(root)
        indexes.close()
    per_point, disk_per_point = grown / options.points, on_disk / options.points
    print(
        f"{options.points} points, {options.text_chars}-char text: resident +{grown / 2**20:.0f} MiB "
        f"({per_point:.0f} B/point, {per_point * 1e6 / 2**30:.2f} GiB per million); on disk "
        f"{on_disk / 2**20:.0f} MiB ({disk_per_point:.0f} B/point, {disk_per_point * 1e6 / 2**30:.2f} GiB per million)"
    )


if __name__ == "__main__":
    main()
