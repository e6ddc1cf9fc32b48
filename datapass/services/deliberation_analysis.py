"""A délibération's text checked against the data items a request asks for.

When a PDF is uploaded as the legal block's document, ``queue_analysis`` marks it *pending*
and queues a ``deliberation`` outbox job; the worker's ``deliver`` extracts its text page by
page with pypdf and stores it on the document, split between

- the **operative part**, what the board decides: from the first « Après en avoir
  délibéré », « DÉCIDE », « APPROUVE » (…) or « Article 1 », except the lines that start
  with « Vu » or « Considérant »;
- the **exposé**, everything else (the « Vu » and « Considérant » paragraphs, the context).

A PDF without text (a scan) is marked ``no_text``. Then ``verdicts`` looks up each checked
data item by the words that name it in the catalogue (``keywords`` of a scope), accents and
case ignored, on word boundaries (« QF » is not found in « QFX »), a final « s » or « x »
allowed after a word (« enfant », « enfants »): *approuvée* when found in the operative
part, *mentionnée seulement dans l’exposé*, or *absente*, with the page. Only the operative
part approves.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from datapass import outbox
from datapass.database import write_transaction
from datapass.models.document import TEXT_EXTRACTED, TEXT_NONE, TEXT_PENDING
from datapass.services import scanning
from datapass.storage import Storage, get_storage

if TYPE_CHECKING:
    from datapass.catalog.model import Form, Scope
    from datapass.models import AuthorizationRequest, Document
    from datapass.models.outbox import OutboxJob

logger = logging.getLogger(__name__)

JOB_KIND = "deliberation"
# The legal block's upload (``blocks.legal.DOCUMENT_FIELD``; not imported: blocks import services).
ANALYSED_FIELD = "cadre_juridique_document"
MAX_TEXT = 300_000  # characters kept per document
MIN_TEXT = 20  # fewer non-blank characters: a scan, not a text

APPROVED = "approved"
EXPOSE_ONLY = "expose_only"
ABSENT = "absent"
VERDICT_LABELS = {
    APPROVED: "approuvée",
    EXPOSE_ONLY: "mentionnée seulement dans l’exposé",
    ABSENT: "absente",
}
VERDICT_BADGES = {APPROVED: "success", EXPOSE_ONLY: "warning", ABSENT: "error"}
STATE_LABELS = {
    TEXT_PENDING: "Analyse de la délibération en cours",
    TEXT_NONE: "texte non extractible (document scanné\u202f?)",
}

# Where the board's decision starts. Upper-case verbs only: « approuvé » in the exposé is not
# a decision.
_OPERATIVE_START = re.compile(
    r"(?i:apr[eè]s\s+en\s+avoir\s+d[ée]lib[ée]r[ée])"
    r"|\b(?:D[ÉE]CIDE|APPROUVE|ARR[ÊE]TE|ADOPTE|AUTORISE|D[ÉE]LIB[ÈE]RE)\b"
    r"|(?im:^\s*article\s+(?:1\s*(?:er)?|premier)\b)"
)
_CONSIDERATION = re.compile(r"^\s*(?:vu|consid[ée]rant)\b", re.I)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "\u00a0": " ", "\u202f": " "})
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower case, no accents, straight apostrophes, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", bare.lower()).strip()


@functools.lru_cache(maxsize=512)
def _pattern(keyword: str) -> re.Pattern:
    words = normalize(keyword).split(" ")
    body = r"\s+".join(re.escape(word) for word in words)
    plural = "(?:s|x)?" if len(words[-1]) > 3 else ""  # not after an acronym: « QFX »
    return re.compile(rf"(?<![a-z0-9]){body}{plural}(?![a-z0-9])")


# ---------------------------------------------------------------- extraction


def split_sections(pages: list[str]) -> list[dict]:
    """``[{"page", "operative", "text"}]``: each page's text, exposé then operative part."""
    sections: list[dict] = []
    operative = False

    def add(page: int, is_operative: bool, text: str) -> None:
        text = normalize(text)
        if not text:
            return
        if sections and sections[-1]["page"] == page and sections[-1]["operative"] == is_operative:
            sections[-1]["text"] += " " + text
        else:
            sections.append({"page": page, "operative": is_operative, "text": text})

    for number, text in enumerate(pages, start=1):
        if not operative and (start := _OPERATIVE_START.search(text)):
            add(number, False, text[: start.start()])
            text, operative = text[start.start() :], True
        if not operative:
            add(number, False, text)
            continue
        for line in text.splitlines():
            add(number, not _CONSIDERATION.match(line), line)
    return sections


def extract_pages(data: bytes) -> list[str] | None:
    """Each page's text; None when the PDF cannot be read or holds no text (a scan)."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return None
        pages, total = [], 0
        for page in reader.pages:
            text = (page.extract_text() or "")[: MAX_TEXT - total]
            total += len(text)
            pages.append(text)
    except (PyPdfError, ValueError, KeyError, IndexError, TypeError, RecursionError):
        return None
    if sum(len(text.strip()) for text in pages) < MIN_TEXT:
        return None
    return pages


def queue_analysis(document: Document) -> None:
    """Mark a délibération pending and queue its analysis, in the caller's transaction."""
    if document.field != ANALYSED_FIELD:
        return
    document.text_state = TEXT_PENDING
    key = document.storage_key
    outbox.enqueue(JOB_KIND, {"storage_key": key}, key=f"deliberation-{key}", max_attempts=6)


def read_pages(storage_key: str, *, storage: Storage | None = None) -> list[str] | None:
    """The stored file's text, page by page (None: no text layer)."""
    storage = storage or get_storage()
    with storage.open(storage_key) as stream:
        return extract_pages(stream.read())


def record_text(document: Document, pages: list[str] | None) -> None:
    """Store the document's text (no commit)."""
    if pages is None:
        document.text_state, document.text_sections = TEXT_NONE, None
    else:
        document.text_state, document.text_sections = TEXT_EXTRACTED, split_sections(pages)


def deliver(job: OutboxJob) -> None:
    """The outbox handler of ``deliberation`` jobs (``datapass.register_side_effects``).

    Storage unavailable raises: the job is retried and the document stays pending.
    """
    document = scanning.document_of(job)
    if document is None or document.text_state != TEXT_PENDING:
        return  # removed since, or already analysed
    pages = read_pages(document.storage_key)
    # Written in a transaction that takes the write lock (SQLite): the one the reading began
    # in did not, and another connection may have written meanwhile.
    with write_transaction():
        document = scanning.document_of(job)
        if document is None or document.text_state != TEXT_PENDING:
            return
        record_text(document, pages)
        document_id, state = document.id, document.text_state
    logger.info("deliberation %s analysed: %s", document_id, state)


# ---------------------------------------------------------------- verdicts


@dataclass(frozen=True, slots=True)
class Verdict:
    scope: str
    label: str
    result: str  # APPROVED, EXPOSE_ONLY or ABSENT
    page: int | None

    @property
    def result_label(self) -> str:
        return VERDICT_LABELS[self.result]

    @property
    def badge(self) -> str:
        return VERDICT_BADGES[self.result]


def _keywords(scope: Scope) -> tuple[str, ...]:
    return scope.keywords or (scope.label,)


def verdict(scope: Scope, sections: list[dict]) -> Verdict:
    """Where ``sections`` name ``scope``: the operative part first, then the exposé."""
    patterns = [_pattern(keyword) for keyword in _keywords(scope)]
    found: dict[bool, int] = {}
    for section in sections:
        if section["operative"] in found:
            continue
        if any(pattern.search(section["text"]) for pattern in patterns):
            found[section["operative"]] = section["page"]
    if True in found:
        return Verdict(scope.value, scope.label, APPROVED, found[True])
    if False in found:
        return Verdict(scope.value, scope.label, EXPOSE_ONLY, found[False])
    return Verdict(scope.value, scope.label, ABSENT, None)


def _checked_scopes(catalog_form: Form, authorization_request: AuthorizationRequest) -> list:
    values = (authorization_request.data or {}).get("scopes") or []
    definition = catalog_form.definition
    return [scope for value in values if (scope := definition.scope(value)) is not None]


@dataclass(frozen=True, slots=True)
class DocumentAnalysis:
    document: Document
    state_label: str | None  # pending or without text; None once analysed
    verdicts: tuple[Verdict, ...]


def analyses(
    catalog_form: Form | None, authorization_request: AuthorizationRequest
) -> list[DocumentAnalysis]:
    """The analysis of each délibération of the request (documents already loaded: no query)."""
    if catalog_form is None:
        return []
    scopes = _checked_scopes(catalog_form, authorization_request)
    result = []
    for document in authorization_request.documents:
        if document.field != ANALYSED_FIELD or document.text_state is None:
            continue
        sections = document.text_sections or []
        found = (
            tuple(verdict(scope, sections) for scope in scopes)
            if document.text_state == TEXT_EXTRACTED
            else ()
        )
        result.append(DocumentAnalysis(document, STATE_LABELS.get(document.text_state), found))
    return result


def unapproved_labels(
    catalog_form: Form | None, authorization_request: AuthorizationRequest
) -> list[str]:
    """The checked data items that no analysed délibération approves (empty: none analysed)."""
    analysed = [item for item in analyses(catalog_form, authorization_request) if item.verdicts]
    if not analysed:
        return []
    approved = {v.scope for item in analysed for v in item.verdicts if v.result == APPROVED}
    return [v.label for v in analysed[0].verdicts if v.scope not in approved]
