"""« Télécharger le récépissé (PDF) »: the proof of an habilitation, built with fpdf2.

The PDF uses the standard Helvetica font (nothing to ship, text extractable): it covers
Latin-1, hence French accents and « » ; the few typographic characters outside it (’, œ,
narrow no-break space, …) are written with their Latin-1 equivalents.
"""

from __future__ import annotations

from fpdf import FPDF

from datapass.catalog import get_catalog
from datapass.models import Authorization
from datapass.services import register

LATIN1 = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u202f": "\u00a0",
        "\u2009": " ",
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u0153": "oe",
        "\u0152": "OE",
        "\u201c": '"',
        "\u201d": '"',
    }
)


def _latin1(text: str) -> str:
    return text.translate(LATIN1).encode("latin-1", "replace").decode("latin-1")


def _date(value) -> str:
    return value.strftime("%d/%m/%Y") if value else "-"


def lines(authorization: Authorization) -> list[tuple[str, str]]:
    """The receipt's content: (label, value) pairs, in order."""
    entry = register.find(authorization.id)
    catalog_form = get_catalog().form(authorization.form_uid)
    definition = catalog_form.definition if catalog_form else None
    data = authorization.data or {}
    scopes = []
    for value in data.get("scopes", []):
        scope = definition.scope(value) if definition else None
        scopes.append(f"{scope.label} ({value})" if scope else value)
    legal = data.get("cadre_juridique_nature") or "-"
    if data.get("cadre_juridique_url"):
        legal = f"{legal} ({data['cadre_juridique_url']})"
    service = definition.provider.upper() if definition else "-"
    return [
        ("Habilitation", authorization.public_reference),
        ("Demande", f"D{authorization.authorization_request_id}"),
        ("Organisation", authorization.organization.display_name),
        ("SIRET", authorization.organization.siret),
        ("Type d’habilitation", definition.name if definition else authorization.definition_id),
        ("Démarche", catalog_form.name if catalog_form else authorization.form_uid),
        ("Données accordées", "\n".join(scopes) or "-"),
        ("Cadre juridique", legal),
        ("Date de la décision", _date(authorization.created_at)),
        ("Service instructeur", service),
        ("Expiration", _date(entry.expires_at if entry else None)),
        ("État", entry.state_label if entry else authorization.state_label),
        ("Empreinte (SHA-256)", register.fingerprint(authorization)),
    ]


def render(authorization: Authorization, *, public_url: str) -> bytes:
    """The receipt as PDF bytes; ``public_url`` is the public page that verifies it."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Récépissé de l’habilitation {authorization.public_reference}")
    pdf.set_author("DataPass")
    pdf.set_creator("DataPass")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    title = _latin1(f"Récépissé de l’habilitation {authorization.public_reference}")
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(
        0,
        6,
        _latin1(
            "DataPass atteste que l’habilitation ci-dessous a été délivrée. Son empreinte "
            "«\u00a0SHA-256\u00a0» se vérifie sur sa page publique\u00a0: " + public_url
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)
    for label, value in lines(authorization):
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(50, 6, _latin1(label), new_x="RIGHT", new_y="TOP")
        pdf.set_font("Courier" if label.startswith("Empreinte") else "Helvetica", "", 9)
        pdf.multi_cell(0, 6, _latin1(str(value)), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    return bytes(pdf.output())
