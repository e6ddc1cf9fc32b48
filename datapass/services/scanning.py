"""What is inside an uploaded PDF: active content refused at upload, malware scanned after.

- ``check_active_content`` reads the PDF's objects with pypdf (names are decoded, so
  ``/J#61vaScript`` is ``/JavaScript``) and refuses JavaScript, launch actions, embedded
  files, rich media and XFA forms, wherever they hide (open action, page or annotation
  actions, name trees, unreferenced objects).
- ``queue_scan`` marks a new document *pending* and queues a ``scan`` outbox job; the
  worker's ``deliver`` sends the stored file to clamd (``MALWARE_SCANNER=clamd``,
  ``CLAMD_ADDRESS``) and marks it *clean* or *infected*. A pending or infected document
  cannot be downloaded (``Document.downloadable``). With ``MALWARE_SCANNER=none``
  (development) nothing is queued and the document has no scan state.
"""

from __future__ import annotations

import io
import logging
import re
from typing import TYPE_CHECKING, BinaryIO

from flask import current_app
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject
from pypdf.generic import read_object as _read_object
from sqlalchemy import select

from datapass import clamd, outbox
from datapass.database import write_transaction
from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import Document
from datapass.models.base import utcnow
from datapass.models.document import SCAN_CLEAN, SCAN_INFECTED, SCAN_PENDING
from datapass.storage import Storage, get_storage

if TYPE_CHECKING:
    from datapass.models.outbox import OutboxJob

logger = logging.getLogger(__name__)

NBSP = "\u00a0"
JOB_KIND = "scan"

# Keys and action types that make a PDF do something when it is opened or clicked.
ACTIVE_KEYS = frozenset(
    {"/JS", "/JavaScript", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia", "/XFA", "/Launch"}
)
ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/RichMediaExecute"})
ACTIVE_TYPES = frozenset({"/EmbeddedFile", "/RichMedia"})
MAX_OBJECTS = 200_000  # a PDF with more objects is refused rather than walked for minutes
_OBJECT_START = re.compile(rb"(?<![0-9])(\d{1,10})\s+(\d{1,5})\s+obj\b")


class ActiveContent(UserError):
    """A PDF that carries scripts, launch actions or embedded files."""


class _Unreadable(Exception):
    pass


def _refused(name: str) -> ActiveContent:
    return ActiveContent(
        f"Le fichier «{NBSP}{name}{NBSP}» contient du contenu actif (script, lancement "
        f"d’application ou fichier joint) et n’a pas été accepté{NBSP}: enregistrez-le de "
        "nouveau en PDF simple (par exemple avec «\u00a0Imprimer en PDF\u00a0») puis réessayez."
    )


def _unreadable(name: str) -> ActiveContent:
    return ActiveContent(
        f"Le fichier «{NBSP}{name}{NBSP}» n’a pas pu être vérifié (PDF protégé par un mot de "
        f"passe ou endommagé){NBSP}: enregistrez-le de nouveau en PDF sans protection puis "
        "réessayez."
    )


def _is_active(value, budget: list[int]) -> bool:
    """Whether ``value`` (a direct object; references are visited on their own) is active."""
    stack = [value]
    while stack:
        budget[0] -= 1
        if budget[0] < 0:
            raise _Unreadable("too many objects")
        item = stack.pop()
        if isinstance(item, IndirectObject):
            continue
        if isinstance(item, DictionaryObject):
            if ACTIVE_KEYS.intersection(item.keys()):
                return True
            if item.get("/S") in ACTIVE_ACTIONS or item.get("/Type") in ACTIVE_TYPES:
                return True
            if "/EF" in item:  # a file specification with an embedded file
                return True
            stack.extend(item.values())
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return False


def _objects_through_xref(data: bytes):
    """Every object the cross-reference lists, object streams included (pypdf's reader)."""
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise _Unreadable("encrypted")
    yield reader.trailer
    for generation, numbers in reader.xref.items():
        for number in numbers:
            yield reader.get_object(IndirectObject(number, generation, reader))
    for number in reader.xref_objStm:
        yield reader.get_object(IndirectObject(number, 0, reader))


def _parse_at(stream: io.BytesIO, position: int):
    stream.seek(position)
    try:
        return _read_object(stream, None)
    except (PyPdfError, ValueError, KeyError, IndexError, TypeError):
        return None


def _objects_in_body(data: bytes):
    """Every ``N G obj`` of the file and its last trailer, parsed where they start.

    Catches objects that no cross-reference lists (and files without one); objects
    packed in object streams are only seen through the reader.
    """
    stream = io.BytesIO(data)
    for match in _OBJECT_START.finditer(data):
        yield _parse_at(stream, match.end())
    trailer = data.rfind(b"trailer")
    if trailer >= 0:
        yield _parse_at(stream, trailer + len(b"trailer"))


def check_active_content(stream: BinaryIO, filename: str) -> None:
    """Raise ``ActiveContent`` when the PDF in ``stream`` carries active content.

    The stream's position is restored. A PDF that cannot be read at all is accepted only
    when its body, parsed object by object, holds no active content and no object stream
    (whose content could not be inspected).
    """
    start = stream.tell()
    try:
        data = stream.read()
    finally:
        stream.seek(start)
    budget = [MAX_OBJECTS]
    readable = True
    try:
        try:
            for obj in _objects_through_xref(data):
                if _is_active(obj, budget):
                    raise _refused(filename)
        except _Unreadable:
            raise
        except (PyPdfError, ValueError, KeyError, IndexError, TypeError, RecursionError):
            readable = False
        for obj in _objects_in_body(data):
            if _is_active(obj, budget):
                raise _refused(filename)
            if not readable and isinstance(obj, DictionaryObject):
                if obj.get("/Type") == NameObject("/ObjStm") or "/Encrypt" in obj:
                    raise _unreadable(filename)
    except _Unreadable as error:
        raise _unreadable(filename) from error


# ---------------------------------------------------------------- the malware scan


def scanner() -> str:
    return current_app.config["MALWARE_SCANNER"]


def queue_scan(document: Document) -> None:
    """Mark ``document`` pending and queue its scan, in the caller's transaction."""
    if scanner() == "none":
        return
    document.scan_state = SCAN_PENDING
    key = document.storage_key
    outbox.enqueue(JOB_KIND, {"storage_key": key}, key=f"scan-{key}", max_attempts=12)


def scan_file(storage_key: str, *, storage: Storage | None = None) -> str | None:
    """Send the stored file to the scanner: the threat it names, None when clean."""
    storage = storage or get_storage()
    config = current_app.config
    with storage.open(storage_key) as stream:
        return clamd.scan_stream(
            config["CLAMD_ADDRESS"], stream, timeout=config["CLAMD_TIMEOUT_SECONDS"]
        )


def record_verdict(document: Document, threat: str | None) -> None:
    """The scanner's verdict on the document (no commit)."""
    document.scanned_at = utcnow()
    if threat is None:
        document.scan_state = SCAN_CLEAN
        return
    document.scan_state = SCAN_INFECTED
    document.scan_threat = threat[:120]
    logger.warning("document %s (%s) is infected: %s", document.id, document.sha256, threat)


def document_of(job: OutboxJob) -> Document | None:
    """The document a job about a stored file names (``{"storage_key": …}``); None once removed."""
    key = job.payload["storage_key"]
    return db.session.scalar(select(Document).where(Document.storage_key == key))


def deliver(job: OutboxJob) -> None:
    """The outbox handler of ``scan`` jobs (``datapass.register_side_effects``).

    clamd unreachable or failing raises: the job is retried, the document stays pending
    (not downloadable) until a scan succeeds.
    """
    document = document_of(job)
    if document is None or document.scan_state != SCAN_PENDING:
        return  # removed since, or already scanned
    threat = scan_file(document.storage_key)
    # The verdict in a transaction that takes the write lock (SQLite): the one the scan read
    # in did not, and another connection may have written during the scan.
    with write_transaction():
        document = document_of(job)
        if document is not None and document.scan_state == SCAN_PENDING:
            record_verdict(document, threat)
