"""Parsing every listed document type, offline, and failing with OpenAI's last_error codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import pytest

from rag.errors import IngestError
from rag.parsing import parse_document
from tests.rag.documents import SampleDocument, docx_document, every_type, minimal_pdf, pptx_document

SAMPLES = every_type()


@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.filename for sample in SAMPLES])
def test_every_type_parses_to_its_text(sample: SampleDocument) -> None:
    parsed = parse_document(sample.data, sample.filename)
    for expected in sample.expected:
        assert expected in parsed.text, (expected, parsed.text)


def test_the_content_type_decides_when_the_name_has_no_extension() -> None:
    parsed = parse_document(minimal_pdf(["Orbital mechanics primer"]), "upload", "application/pdf")
    assert parsed.kind == "pdf"
    assert "Orbital mechanics primer" in parsed.text
    assert parse_document(b"plain words", "README").kind == "text"


def test_an_empty_text_file_parses_to_no_text() -> None:
    assert parse_document(b"", "empty.txt").text == ""
    assert parse_document(b"\n  \n", "blank.md").text == ""


def _corrupt(data: bytes) -> bytes:
    """The first half of a valid file: what an interrupted upload leaves."""
    return data[: len(data) // 2]


def _with_broken_part(data: bytes, part: str) -> bytes:
    """A well-formed ZIP container whose main XML part is not XML."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, b"<not-xml" if item.filename == part else source.read(item.filename))
    return out.getvalue()


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("broken.pdf", _corrupt(minimal_pdf(["some text"]))),
        ("garbage.pdf", b"%PDF-1.7\n this is not a pdf at all \x00\x01\x02"),
        ("not-a-pdf.pdf", b"hello, I am plain text"),
        ("broken.docx", _corrupt(docx_document())),
        ("garbage.docx", b"PK\x03\x04 definitely not a zip archive"),
        ("broken.pptx", _corrupt(pptx_document())),
        ("wrong-zip.pptx", docx_document()),
        ("bad-xml.docx", _with_broken_part(docx_document(), "word/document.xml")),
        ("bad-xml.pptx", _with_broken_part(pptx_document(), "ppt/presentation.xml")),
        ("latin1.txt", "café crème".encode("latin-1")),
        ("nul.csv", b"a,b\n1,\x00\n"),
    ],
)
def test_a_corrupt_file_fails_as_invalid_file(filename: str, data: bytes) -> None:
    with pytest.raises(IngestError) as raised:
        parse_document(data, filename)
    assert raised.value.code == "invalid_file", raised.value.message


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "says"),
    [
        ("photo.png", None, b"\x89PNG\r\n\x1a\n" + bytes(64), "image"),
        ("scan", None, b"\xff\xd8\xff\xe0" + bytes(64), "image"),
        ("voice.mp3", None, b"ID3" + bytes(64), "audio"),
        ("call", "audio/wav", b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(64), "audio"),
        ("blob.bin", None, bytes(range(256)) * 4, "unknown binary"),
        ("old.doc", None, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), ".doc"),
    ],
)
def test_images_audio_and_unknown_binary_fail_as_unsupported_file(
    filename: str, content_type: str | None, data: bytes, says: str
) -> None:
    with pytest.raises(IngestError) as raised:
        parse_document(data, filename, content_type)
    assert raised.value.code == "unsupported_file"
    assert says in raised.value.message


# Run in a fresh interpreter: the guard must be in place before unstructured is first imported
# (its import is where the telemetry ping and the spaCy model download would start).
_OFFLINE_SCRIPT = textwrap.dedent(
    """
    import json, socket, sys
    attempts = []
    def refuse(*args, **kwargs):
        attempts.append(repr(args[:2]))
        raise OSError("network access refused by the test")
    original_connect = socket.socket.connect
    def guarded_connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            return refuse(self, address)
        return original_connect(self, address)
    socket.socket.connect = guarded_connect
    socket.socket.connect_ex = guarded_connect
    socket.getaddrinfo = refuse
    socket.create_connection = refuse
    from rag.parsing import parse_document
    from tests.rag.documents import every_type
    parsed = {sample.filename: all(e in parse_document(sample.data, sample.filename).text for e in sample.expected)
              for sample in every_type()}
    # The rest of an ingest, offline too: the local model and the embedded index.
    import pathlib, tempfile
    from rag.embedder import DIMENSIONS, LocalEmbedder
    from rag.index import IndexPoint, open_indexes
    vector = LocalEmbedder(threads=1).embed(["tides rise twice a day"]).vectors[0].tolist()
    with tempfile.TemporaryDirectory() as root:
        indexes = open_indexes(path=pathlib.Path(root))
        indexes.create("vs_offline--g1", DIMENSIONS)
        indexes.upsert("vs_offline--g1", [IndexPoint("00000000-0000-4000-8000-000000000001", vector, "f", 0, "t")])
        parsed["searched"] = len(indexes.search("vs_offline--g1", vector, limit=1)) == 1
        indexes.close()
    print(json.dumps({"attempts": attempts, "parsed": parsed, "unstructured": "unstructured" in sys.modules}))
    """
)


def test_parsing_embedding_and_indexing_attempt_no_network_connection() -> None:
    network_variables = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
    environment = {name: value for name, value in os.environ.items() if name not in network_variables}
    for opt_out in ("DO_NOT_TRACK", "SCARF_NO_ANALYTICS", "UNSTRUCTURED_DISABLE_NOTICE"):
        environment.pop(opt_out, None)  # rag/partitioning.py must set them itself
    environment["HF_HUB_OFFLINE"] = "1"
    completed = subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT], env=environment, capture_output=True, text=True, timeout=240
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["unstructured"]
    assert report["attempts"] == []
    assert all(report["parsed"].values()), report["parsed"]
