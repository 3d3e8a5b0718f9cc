"""Documents of every type Ringside parses, made in code (no fixture files), each carrying a
sentence the parse must bring back. Used by the parsing tests and bench/rag_parsing.py."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class SampleDocument:
    filename: str
    data: bytes
    expected: tuple[str, ...]  # texts the parsed text must contain


def minimal_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF with one text line per entry (Helvetica, ASCII), xref offsets exact."""
    text_ops = " ".join(f"1 0 0 1 72 {720 - 24 * position} Tm ({line}) Tj" for position, line in enumerate(lines))
    content = f"BT /F1 12 Tf {text_ops} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return out


def docx_document() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Quarterly revenue report", level=1)
    document.add_paragraph("Revenue grew by twelve percent in the third quarter thanks to the northern region.")
    document.add_paragraph("Hiring froze in October", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for (row, column), text in {(0, 0): "Region", (0, 1): "Revenue", (1, 0): "North", (1, 1): "4.2M"}.items():
        table.cell(row, column).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pptx_document() -> bytes:
    import pptx

    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "Orchard harvest plan"
    slide.placeholders[1].text = "Apples are picked in September before the first frost."
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def every_type() -> list[SampleDocument]:
    """One small document of each parsed type."""
    return [
        SampleDocument(
            "report.pdf",
            minimal_pdf(["Tidal energy report", "The tides of the bay rise twice a day and turn the turbines."]),
            ("The tides of the bay rise twice a day and turn the turbines.",),
        ),
        SampleDocument(
            "report.docx",
            docx_document(),
            (
                "# Quarterly revenue report",
                "Revenue grew by twelve percent",
                "- Hiring froze in October",
                "North | 4.2M",
            ),
        ),
        SampleDocument(
            "deck.pptx",
            pptx_document(),
            ("Orchard harvest plan", "Apples are picked in September before the first frost."),
        ),
        SampleDocument(
            "guide.md",
            b"# Volcano safety\n\nStay away from lava flows and follow the evacuation routes.\n\n"
            b"- carry water\n- wear a mask\n",
            ("# Volcano safety", "Stay away from lava flows", "- carry water"),
        ),
        SampleDocument(
            "page.html",
            b"<html><body><h1>Coffee brewing</h1><p>Grind the beans just before brewing for the best taste.</p>"
            b"<ul><li>use filtered water</li></ul><table><tr><th>Method</th><th>Minutes</th></tr>"
            b"<tr><td>French press</td><td>4</td></tr></table></body></html>",
            ("Coffee brewing", "Grind the beans just before brewing", "- use filtered water", "French press | 4"),
        ),
        SampleDocument(
            "notes.txt",
            "Glaciers carve valleys slowly over thousands of years. Ça bouge lentement.\n".encode(),
            ("Glaciers carve valleys slowly over thousands of years.", "Ça bouge lentement."),
        ),
        SampleDocument(
            "billing.py",
            b"def invoice_total(lines: list[int]) -> int:\n"
            b'    """Sum of the invoice lines."""\n    return sum(lines)\n',
            ("def invoice_total(lines: list[int]) -> int:", "return sum(lines)"),
        ),
        SampleDocument(
            "plan.json",
            json.dumps({"plan": "pro", "seats": 12, "features": ["vector stores", "webhooks"]}).encode(),
            ('"plan": "pro"', '"vector stores"'),
        ),
        SampleDocument("config.yaml", b"service:\n  name: harbour-pilot\n  replicas: 3\n", ("name: harbour-pilot",)),
        SampleDocument(
            "feed.xml",
            b'<?xml version="1.0"?><catalog><book id="7"><title>Deep sea creatures</title></book></catalog>',
            ("<title>Deep sea creatures</title>",),
        ),
        SampleDocument(
            "prices.csv",
            b"product,price,colour\nWidget,9.99,red\nGadget,,blue\n",
            ("product: Widget; price: 9.99; colour: red", "product: Gadget; colour: blue"),
        ),
    ]
