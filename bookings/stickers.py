"""The printable sticker sheet: a PDF page grid of QR codes, each with the resource's name under it.

Each QR code holds the resource's deep link (core.deeplinks), which opens the
bot at that resource. The admin's "Print QR stickers" action serves the PDF.
"""

import io
from collections.abc import Callable, Iterable

import segno
from fpdf import FPDF

from bookings.models import Resource

# An A4 page of 3 × 4 stickers, in millimetres.
COLUMNS, ROWS = 3, 4
MARGIN = 12.0
CODE_SIZE = 48.0
NAME_HEIGHT = 12.0


def sticker_sheet_pdf(*, resources: Iterable[Resource], link_for: Callable[[Resource], str]) -> bytes:
    """A PDF with one sticker per resource (its QR code of link_for(resource), the name below)."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margin(MARGIN)
    unicode = _font(pdf)
    cell_width = (pdf.w - 2 * MARGIN) / COLUMNS
    cell_height = (pdf.h - 2 * MARGIN) / ROWS
    for index, resource in enumerate(resources):
        if index % (COLUMNS * ROWS) == 0:
            pdf.add_page()
        column, row = index % COLUMNS, (index // COLUMNS) % ROWS
        left, top = MARGIN + column * cell_width, MARGIN + row * cell_height
        image = io.BytesIO()
        # A quiet zone of 4 modules (the standard's) keeps it readable when stickers sit side by side.
        segno.make(link_for(resource), error="m").save(image, kind="png", scale=10, border=4)
        image.seek(0)
        pdf.image(image, x=left + (cell_width - CODE_SIZE) / 2, y=top + 4, w=CODE_SIZE, h=CODE_SIZE)
        pdf.set_xy(left + 2, top + 4 + CODE_SIZE + 2)
        # The core font knows Latin-1 only: other letters print as "?" rather than fail the sheet.
        name = resource.name if unicode else resource.name.encode("latin-1", "replace").decode("latin-1")
        pdf.multi_cell(cell_width - 4, 5, name, align="C", max_line_height=5)
    if not pdf.pages:
        pdf.add_page()
    return bytes(pdf.output())


def _font(pdf):
    """A Unicode font when the system has one (Cyrillic names), else the core Helvetica (Latin-1)."""
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf"):
        try:
            pdf.add_font("DejaVu", fname=path)
        except (FileNotFoundError, OSError):
            continue
        pdf.set_font("DejaVu", size=11)
        return True
    pdf.set_font("Helvetica", size=11)
    return False
