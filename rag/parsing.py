"""A file's bytes → its text, with the structure that helps retrieval kept (titles, list items,
table rows, one CSV row per line as a narrative "column: value; column: value").

PDF, Word, PowerPoint, Markdown, HTML and plain text go through unstructured (rag/partitioning.py);
code, JSON, YAML and XML are kept as they are (their syntax carries meaning), CSV is read here.
Failures carry OpenAI's `last_error` codes: `unsupported_file`, `invalid_file`, `server_error`.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from dataclasses import dataclass

from rag.errors import IngestError
from rag.filetypes import DocumentKind, UnsupportedKind, detect_kind

_LOGGER = logging.getLogger(__name__)
# csv's own bound on a field is 128 KiB; a row wider than this is not a table anyone searches.
_MAX_CSV_COLUMNS = 1000
_VERBATIM_KINDS = frozenset({"code", "json", "yaml", "xml"})


@dataclass(frozen=True)
class Element:
    """One piece of a document: `category` is unstructured's (Title, NarrativeText, ListItem,
    Table, …; "Row" for a CSV row), `text` its text as rendered into the document's text."""

    category: str
    text: str


@dataclass(frozen=True)
class ParsedDocument:
    """What a file parses to: its kind, its elements in reading order, and the text to chunk."""

    kind: DocumentKind
    elements: tuple[Element, ...]

    @property
    def text(self) -> str:
        """The elements' texts, a blank line between two."""
        return "\n\n".join(element.text for element in self.elements if element.text)


def parse_document(data: bytes, filename: str, content_type: str | None = None) -> ParsedDocument:
    """Parses a file. Raises IngestError: `unsupported_file` for images, audio and unknown binary,
    `invalid_file` for a corrupt document or undecodable text, `server_error` for a parser fault."""
    try:
        kind = detect_kind(filename, content_type, data[:4096])
    except UnsupportedKind as error:
        raise IngestError("unsupported_file", str(error)) from None
    if kind == "csv":
        return ParsedDocument(kind, _csv_rows(_decode(data, filename)))
    if kind in _VERBATIM_KINDS:
        text = _decode(data, filename).strip()
        return ParsedDocument(kind, (Element("Text", text),) if text else ())
    from rag import partitioning  # unstructured is heavy: loaded on the first document that needs it

    try:
        if kind in ("pdf", "docx", "pptx"):
            elements = partitioning.partition_binary(kind, data)
        else:
            elements = partitioning.partition_text(kind, _decode(data, filename))
    except IngestError:
        raise
    except Exception as error:
        # The file's bytes were checked before the parser ran, so what is left is ours to fix. Only
        # the error's type is logged: its text may quote the document (logs carry ids only).
        _LOGGER.error("parser fault on a %s file: %s", kind, type(error).__name__)
        raise IngestError("server_error", f"the {kind} parser failed on {filename!r}") from None
    return ParsedDocument(kind, tuple(Element(category, text) for category, text in elements))


def _decode(data: bytes, filename: str) -> str:
    """UTF-8 (a BOM is dropped) or UTF-16 with its BOM; anything else is not a text file we read."""
    encoding = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise IngestError("invalid_file", f"{filename!r} is not valid UTF-8 text (byte {error.start})") from None
    if "\x00" in text:
        raise IngestError("invalid_file", f"{filename!r} contains NUL characters: not a text file")
    return text


def _csv_rows(text: str) -> tuple[Element, ...]:
    """Each data row as "column: value; column: value", skipping empty values, so a row reads as
    a sentence that names what each value is (a bare "9.99" matches no question)."""
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as error:
        raise IngestError("invalid_file", f"the CSV file cannot be read: {error}") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return ()
    header = [cell.strip() or f"column {position + 1}" for position, cell in enumerate(rows[0][:_MAX_CSV_COLUMNS])]
    elements = []
    for row in rows[1:]:
        pairs = [
            f"{header[position] if position < len(header) else f'column {position + 1}'}: {value.strip()}"
            for position, value in enumerate(row[:_MAX_CSV_COLUMNS])
            if value.strip()
        ]
        elements.append(Element("Row", "; ".join(pairs)))
    if not elements:  # a header alone still says what the file is about
        elements.append(Element("Row", "; ".join(header)))
    return tuple(elements)
