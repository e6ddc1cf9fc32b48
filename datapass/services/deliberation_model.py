"""« Télécharger un modèle de délibération »: an editable Word document (.docx, python-docx)
generated from a request, for the CCAS board to adopt.

Its structure follows a real CCAS délibération (the Chaville seed): the board meeting and
its attendance, the object, « Vu … » (the legal bases), « Considérant … » (the service, its
purpose, the data in plain French, the software, recipients, retention), « Après en avoir
délibéré », then the articles the board decides, and the blanks it fills in (meeting date,
members present and represented, vote, display date). Nothing is stored: built on demand.
"""

from __future__ import annotations

import io
import re

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH

from datapass.blocks.personal_data import RETENTION

BLANK = "…………………………"
NBSP = "\u00a0"
CRPA = (
    "Vu le code des relations entre le public et l’administration, notamment ses articles "
    "L114-8 et R114-9-3, relatifs aux échanges de données entre administrations{nbsp};"
)
CASF = "Vu le code de l’action sociale et des familles, notamment ses articles {articles}{nbsp};"
CASF_ARTICLE = re.compile(r"^CASF, article (\S+)$")
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def data_items(catalog_form, data) -> list[str]:
    """Each scope asked, in plain French: « Revenu fiscal de référence (DGFIP - …) »."""
    items = []
    for value in data.get("scopes") or []:
        scope = catalog_form.definition.scope(value)
        if scope is not None:
            items.append(f"{scope.label} ({scope.group})")
    return items


def _casf_articles(catalog_form) -> list[str]:
    framework = catalog_form.legal_framework
    return [
        match.group(1)
        for label, _ in (framework.urls if framework else ())
        if (match := CASF_ARTICLE.match(label))
    ]


def filename(authorization_request) -> str:
    return f"modele-deliberation-{authorization_request.public_reference}.docx"


def build_docx(authorization_request, catalog_form) -> bytes:
    """The model délibération of this request, as the bytes of a .docx file."""
    data = authorization_request.data or {}
    organization = authorization_request.organization
    service = data.get("intitule") or catalog_form.name
    editor = catalog_form.editor
    software = f"{editor.solution}, édité par {editor.name}" if editor else None
    months = data.get(RETENTION) or BLANK
    recipients = data.get("destinataire_donnees_caractere_personnel") or BLANK

    document = Document()
    heading = document.add_paragraph(organization.name.upper())
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_heading("Conseil d’administration", level=1)
    document.add_paragraph(f"Séance du {BLANK}")
    document.add_heading("Extrait du registre des délibérations", level=2)
    document.add_paragraph(
        f"L’an {BLANK}, le {BLANK} à {BLANK} heures, le conseil d’administration, légalement "
        f"convoqué, s’est réuni au lieu ordinaire de ses séances, sous la présidence de {BLANK}."
    )
    for line in (
        f"Nombre d’administrateurs en exercice{NBSP}: {BLANK}",
        f"Présents{NBSP}: {BLANK}",
        f"Absents ayant donné procuration (représentés){NBSP}: {BLANK}",
        f"Absents{NBSP}: {BLANK}",
        f"Publication par affichage, le{NBSP}: {BLANK}",
    ):
        document.add_paragraph(line)

    subject = f"Utilisation de l’API Particulier pour «{NBSP}{service}{NBSP}»"
    if editor:
        subject += f" dans le logiciel {editor.solution}"
    document.add_heading(f"Objet{NBSP}: {subject}", level=2)

    document.add_paragraph(CRPA.format(nbsp=NBSP))
    articles = _casf_articles(catalog_form)
    if articles:
        listed = ", ".join(articles[:-1]) + (" et " if len(articles) > 1 else "") + articles[-1]
        document.add_paragraph(CASF.format(articles=listed, nbsp=NBSP))
    document.add_paragraph(
        "Vu le règlement des aides sociales facultatives du centre communal d’action sociale"
        f"{NBSP};"
    )

    description = data.get("description") or BLANK
    document.add_paragraph(
        f"Considérant que, pour le service «{NBSP}{service}{NBSP}», {description}"
    )
    document.add_paragraph(
        "Considérant que l’API Particulier permet d’obtenir directement auprès des "
        "administrations qui les détiennent les données nécessaires à l’instruction, sans "
        f"demander de justificatif aux usagers, à savoir{NBSP}:"
    )
    items = data_items(catalog_form, data)
    for item in items:
        document.add_paragraph(item, style="List Bullet")
    if software:
        document.add_paragraph(
            f"Considérant que l’accès à ces données se fait par le logiciel {software}{NBSP};"
        )
    document.add_paragraph(
        f"Considérant que ces données ne sont accessibles qu’à{NBSP}: {recipients}, et "
        f"qu’elles sont conservées {months} mois au plus après la clôture du dossier{NBSP};"
    )

    document.add_paragraph(
        f"Le conseil d’administration, après en avoir délibéré, au scrutin {BLANK} "
        f"(pour{NBSP}: {BLANK}{NBSP}; contre{NBSP}: {BLANK}{NBSP}; abstentions{NBSP}: {BLANK}),"
    )
    document.add_paragraph("DÉCIDE")
    decisions = [
        f"Article 1{NBSP}: approuve l’utilisation de l’API Particulier pour «{NBSP}{service}"
        f"{NBSP}»" + (f", dans le logiciel {software}" if software else "") + ", afin "
        f"d’obtenir les données suivantes{NBSP}: " + (f"{NBSP}; ".join(items) or BLANK) + ".",
        f"Article 2{NBSP}: ces données sont accessibles aux seuls destinataires suivants"
        f"{NBSP}: {recipients}.",
        f"Article 3{NBSP}: elles sont conservées {months} mois au plus après la clôture du "
        "dossier.",
        f"Article 4{NBSP}: les conditions d’attribution des aides restent celles du règlement "
        f"des aides facultatives (par exemple, un quotient familial inférieur à {BLANK}{NBSP}€).",
        f"Article 5{NBSP}: les usagers sont informés de ce dispositif par un affichage dans les "
        "locaux du centre communal d’action sociale.",
    ]
    for decision in decisions:
        document.add_paragraph(decision)
    document.add_paragraph(f"Fait à {organization.commune or BLANK}, le {BLANK}")
    document.add_paragraph(f"Le président ou la présidente du CCAS{NBSP}: {BLANK}")

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
