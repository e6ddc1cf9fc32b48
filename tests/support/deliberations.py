"""Délibérations as PDF files, written with a real PDF library (fpdf2) for the text analysis.

``chaville_deliberation.txt`` is the seed délibération of the CCAS of Chaville (12 October
2023, a public act): its exposé describes civil status, children, address, quotient familial
and tax income, but the board approves the CAF quotient familial only.
"""

from __future__ import annotations

import re
from pathlib import Path

from fpdf import FPDF

CHAVILLE = Path(__file__).with_name("chaville_deliberation.txt")
# Where the seed's pages break: the heading and board, the exposé, the decision.
CHAVILLE_PAGE_STARTS = ("## **Objet", "***Le Conseil d'administration")
_MARKUP = re.compile(r"[#*]+|\\(?=_)")
_LATIN_1 = str.maketrans({"–": "-", "’": "'", "…": "..."})


def text_pdf(pages: list[str]) -> bytes:
    """A PDF with one page per text (Helvetica, text that pypdf extracts)."""
    pdf = FPDF(format="A4")
    pdf.set_font("Helvetica", size=10)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 5, text.translate(_LATIN_1))
    return bytes(pdf.output())


def scanned_pdf() -> bytes:
    """A PDF whose page is a picture of text: nothing to extract."""
    pdf = FPDF(format="A4")
    pdf.add_page()
    for row in range(40):
        pdf.rect(20, 20 + row * 6, 120 + (row * 7) % 50, 3, style="F")
    return bytes(pdf.output())


def chaville_pages() -> list[str]:
    text = CHAVILLE.read_text(encoding="utf-8")
    pages = []
    for marker in CHAVILLE_PAGE_STARTS:
        head, _, text = text.partition(marker)
        pages.append(head)
        text = marker + text
    pages.append(text)
    return [_MARKUP.sub("", page).strip() for page in pages]


def chaville_pdf() -> bytes:
    """The Chaville délibération on three pages: the board, the exposé, the decision."""
    return text_pdf(chaville_pages())
