"""Parse throughput per document type: the small generated documents of tests/rag/documents.py,
each parsed repeatedly after a warm-up (which loads unstructured and spaCy).

    python -m bench.rag_parsing [--seconds 2]
"""

from __future__ import annotations

import argparse
import time

from rag.parsing import parse_document
from tests.rag.documents import every_type


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent on each type")
    options = parser.parse_args()
    print(f"{'file':<14} {'bytes':>7} {'chars out':>9} {'files/s':>8} {'ms/file':>8}")
    for sample in every_type():
        parsed = parse_document(sample.data, sample.filename)
        count = 0
        started = time.perf_counter()
        while time.perf_counter() - started < options.seconds and count < 100_000:
            parse_document(sample.data, sample.filename)
            count += 1
        elapsed_s = time.perf_counter() - started
        print(
            f"{sample.filename:<14} {len(sample.data):>7} {len(parsed.text):>9} "
            f"{count / elapsed_s:>8.0f} {1000 * elapsed_s / count:>8.2f}"
        )


if __name__ == "__main__":
    main()
