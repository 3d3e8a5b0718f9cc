"""The domain end to end: a document of every type parsed, chunked, embedded and indexed; a
paraphrased question finds its file first."""

from __future__ import annotations

import pathlib

import pytest

from rag.chunking import Chunker, chunk_id, resolve_strategy
from rag.embedder import DIMENSIONS, TEXT_WINDOW_TOKENS, LocalEmbedder
from rag.index import IndexPoint, index_name, open_indexes
from rag.parsing import parse_document
from tests.rag.documents import every_type

QUESTIONS = {
    "report.pdf": "How often does the water in the bay come in?",
    "report.docx": "By how much did sales go up last quarter?",
    "deck.pptx": "When is the fruit harvested?",
    "guide.md": "How do I stay safe near an erupting volcano?",
    "page.html": "When should I grind coffee?",
    "notes.txt": "How do ice sheets shape valleys?",
    "billing.py": "code that adds up the lines of an invoice",
    "plan.json": "how many seats are in the pro plan",
    "config.yaml": "how many replicas does harbour-pilot run",
    "feed.xml": "a book about animals of the deep ocean",
    "prices.csv": "what is the price of the widget",
}


@pytest.mark.parametrize("engine", ["embedded", "qdrant-client"])
def test_a_paraphrased_question_finds_its_file_first(
    engine: str, embedder: LocalEmbedder, tmp_path: pathlib.Path
) -> None:
    indexes = open_indexes(path=tmp_path / "index") if engine == "embedded" else open_indexes(url=":memory:")
    name = index_name("vs_pipeline", 0)
    chunker = Chunker(embedder.tokenizer)
    strategy = resolve_strategy(None, TEXT_WINDOW_TOKENS)
    try:
        indexes.create(name, DIMENSIONS)
        for sample in every_type():
            chunks = chunker.chunk(parse_document(sample.data, sample.filename).text, strategy)
            assert chunks, sample.filename
            vectors = embedder.embed([chunk.text for chunk in chunks]).vectors
            indexes.upsert(
                name,
                [
                    IndexPoint(
                        chunk_id("vs_pipeline", sample.filename, 0, chunk.index),
                        vector.tolist(),
                        sample.filename,
                        chunk.index,
                        chunk.text,
                        filename=sample.filename,
                    )
                    for chunk, vector in zip(chunks, vectors, strict=True)
                ],
            )
        indexes.optimize(name)
        questions = list(QUESTIONS.items())
        vectors = embedder.embed([question for _, question in questions]).vectors
        ranked_first = {
            filename: indexes.search(name, vector.tolist(), limit=3)[0].file_id
            for (filename, _), vector in zip(questions, vectors, strict=True)
        }
        assert ranked_first == {filename: filename for filename in QUESTIONS}
    finally:
        indexes.close()
