"""Retrieval quality of chunk sizes with the local model, on the labelled set of
bench/rag_labelled_set.py: recall@1 and recall@5 of the right document for each question.

    python -m bench.rag_recall [--strategy 128/32 --strategy 240/60]

Decides `auto` for models whose window is under 800 tokens (rag/chunking.py).
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile

from bench.rag_labelled_set import QUESTIONS, answer_document, documents
from rag.chunking import Chunker, ChunkingStrategy, chunk_id
from rag.embedder import DIMENSIONS, LocalEmbedder
from rag.index import IndexPoint, VectorIndexes, index_name
from rag.index_edge import EdgeIndexes


def build_index(
    indexes: VectorIndexes, name: str, embedder: LocalEmbedder, strategy: ChunkingStrategy, topics_per_document: int
) -> tuple[int, float]:
    """Chunks, embeds and stores every document; returns the chunk count and mean chunk tokens."""
    chunker = Chunker(embedder.tokenizer)
    indexes.create(name, DIMENSIONS)
    chunk_count = 0
    token_total = 0
    for number, text in enumerate(documents(topics_per_document)):
        chunks = chunker.chunk(text, strategy)
        vectors = embedder.embed([chunk.text for chunk in chunks]).vectors
        file_id = f"doc-{number}"
        indexes.upsert(
            name,
            [
                IndexPoint(
                    chunk_id("vs_bench", file_id, 1, chunk.index), vector.tolist(), file_id, chunk.index, chunk.text
                )
                for chunk, vector in zip(chunks, vectors, strict=True)
            ],
        )
        chunk_count += len(chunks)
        token_total += sum(chunk.token_count for chunk in chunks)
    indexes.optimize(name)
    return chunk_count, token_total / max(chunk_count, 1)


def recall(indexes: VectorIndexes, name: str, embedder: LocalEmbedder, topics_per_document: int) -> dict[str, float]:
    """recall@1, recall@5 and the mean reciprocal rank of the right document (chunks grouped by file)."""
    vectors = embedder.embed([question for question, _ in QUESTIONS]).vectors
    first = five = 0
    reciprocal_ranks = 0.0
    for (_, answer), vector in zip(QUESTIONS, vectors, strict=True):
        ranked: list[str] = []
        for hit in indexes.search(name, vector.tolist(), limit=50):
            if hit.file_id not in ranked:
                ranked.append(hit.file_id)
        right = f"doc-{answer_document(answer, topics_per_document)}"
        first += ranked[:1] == [right]
        five += right in ranked[:5]
        reciprocal_ranks += 1 / (ranked.index(right) + 1) if right in ranked else 0.0
    count = len(QUESTIONS)
    return {"recall_at_1": first / count, "recall_at_5": five / count, "mrr": reciprocal_ranks / count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", action="append", help="size/overlap in tokens (repeatable)")
    parser.add_argument("--topics-per-document", type=int, default=1, help="bind topics into longer documents")
    options = parser.parse_args()
    embedder = LocalEmbedder(threads=2)
    topics = options.topics_per_document
    print(f"{len(documents(topics))} documents ({topics} topic(s) each), {len(QUESTIONS)} questions, local model")
    print(f"{'chunking':<10} {'chunks':>6} {'tokens/chunk':>12} {'recall@1':>9} {'recall@5':>9} {'MRR':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        indexes = EdgeIndexes(pathlib.Path(tmp))
        try:
            for generation, spec in enumerate(options.strategy or ["128/32", "240/60"], start=1):
                size, overlap = (int(part) for part in spec.split("/"))
                name = index_name("vs_bench", generation)
                chunks, mean_tokens = build_index(
                    indexes, name, embedder, ChunkingStrategy("static", size, overlap), topics
                )
                scores = recall(indexes, name, embedder, topics)
                print(
                    f"{spec:<10} {chunks:>6} {mean_tokens:>12.0f} {scores['recall_at_1']:>9.3f} "
                    f"{scores['recall_at_5']:>9.3f} {scores['mrr']:>6.3f}"
                )
        finally:
            indexes.close()


if __name__ == "__main__":
    main()
