"""Documents attached to a demande: checked, stored, removed, sent back.

Only PDF files are accepted, judged by their content and not by their name. The
stored file's key is random; the name the user gave is kept for display and for the
download only, cleaned of folders and control characters.

These functions never commit: the calling service or view commits, with the rest of
its change.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, BinaryIO

from flask import Response, send_file
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import Document, authorization_documents
from datapass.models.document import SCAN_INFECTED
from datapass.services import deliberation_analysis, scanning
from datapass.storage import Storage, get_storage

if TYPE_CHECKING:
    from werkzeug.datastructures import FileStorage

    from datapass.models import AuthorizationRequest, User

logger = logging.getLogger(__name__)

NBSP = "\u00a0"  # before « : » and inside « guillemets »
NNBSP = "\u202f"  # before « ; ! ? »

MAX_FILE_SIZE = 10 * 1024 * 1024
MAX_FILES_PER_FIELD = 6
ALLOWED_CONTENT_TYPE = "application/pdf"
UPLOAD_HINT = (
    f"Taille maximale{NBSP}: 10{NBSP}Mo. Formats supportés{NBSP}: pdf. "
    f"{MAX_FILES_PER_FIELD} fichiers au plus."
)

MAX_FILENAME_LENGTH = 180
DEFAULT_FILENAME = "document.pdf"
PDF_HEADER = b"%PDF-"
PDF_TRAILER = b"%%EOF"
# The PDF specification lets readers find the header within the first 1024 bytes and
# the end-of-file marker within the last bytes of the file.
HEADER_WINDOW = 1024
TRAILER_WINDOW = 2048

_SPACES = re.compile(r"\s+")
# Control, format (e.g. right-to-left override, which disguises extensions), surrogate
# and line/paragraph separator characters never belong in a displayed file name.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_PENDING_DELETIONS = "datapass.documents.pending_deletions"


class UploadRejected(UserError):
    """A file that was not accepted; the message names the file."""


def _quoted(name: str) -> str:
    return f"«{NBSP}{name}{NBSP}»"


def _clean_name(name: str | None) -> str:
    """The last path component of ``name``, NFC, without control characters, trimmed."""
    text = unicodedata.normalize("NFC", name or "")
    # Browsers may send a full Windows or POSIX path; keep its last component only.
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(
        " " if char in "\t\r\n" else char
        for char in text
        if char in "\t\r\n" or unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
    text = _SPACES.sub(" ", text).strip(" .")
    return text


def _truncate(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and len(extension) < 16:
        suffix = f".{extension}"
        return stem[: limit - len(suffix)].rstrip(" .") + suffix
    return name[:limit].rstrip(" .")


def safe_filename(name: str | None) -> str:
    """A display name for an uploaded file.

    Folders (``/`` and ``\\``), control characters and NUL are dropped, unicode is
    NFC-normalised and accents are kept (« délibération 2023.pdf » stays readable), the
    length is capped at 180 characters keeping the extension. Since only PDF content is
    accepted, the name always ends in ``.pdf`` (a PDF renamed « page.html » must not open
    as a web page once downloaded). An empty name becomes « document.pdf ».
    """
    text = _clean_name(name)
    if not text:
        return DEFAULT_FILENAME
    if not text.lower().endswith(".pdf"):
        text += ".pdf"
    return _truncate(text, MAX_FILENAME_LENGTH)


def _message_name(name: str | None) -> str:
    """The file as the user knows it, for error messages (no forced extension)."""
    return _truncate(_clean_name(name), MAX_FILENAME_LENGTH) or DEFAULT_FILENAME


def _not_a_pdf(name: str) -> UploadRejected:
    return UploadRejected(
        f"Le fichier {_quoted(name)} n’est pas un PDF{NBSP}: seuls les fichiers PDF sont acceptés."
    )


def _empty(name: str) -> UploadRejected:
    return UploadRejected(f"Le fichier {_quoted(name)} est vide.")


def _too_big(name: str) -> UploadRejected:
    return UploadRejected(f"Le fichier {_quoted(name)} dépasse la taille maximale de 10{NBSP}Mo.")


def _too_many(name: str) -> UploadRejected:
    return UploadRejected(
        f"Vous ne pouvez pas joindre plus de {MAX_FILES_PER_FIELD} fichiers à ce champ{NBSP}: "
        f"{_quoted(name)} n’a pas été ajouté."
    )


def check_pdf(stream: BinaryIO, filename: str = DEFAULT_FILENAME) -> None:
    """Raise ``UploadRejected`` unless ``stream`` holds a PDF, judged by its content.

    ``%PDF-`` must appear in the first 1024 bytes and ``%%EOF`` in the last 2048: an
    empty file, or a PNG, HTML page or ZIP archive renamed « .pdf », is refused. Reading
    starts at the stream's current position, which is restored afterwards.
    """
    start = stream.tell()
    try:
        head = stream.read(HEADER_WINDOW)
        if not head:
            raise _empty(filename)
        if PDF_HEADER not in head:
            raise _not_a_pdf(filename)
        end = stream.seek(0, io.SEEK_END)
        stream.seek(max(start, end - TRAILER_WINDOW))
        if PDF_TRAILER not in stream.read():
            raise _not_a_pdf(filename)
    finally:
        stream.seek(start)


def _seekable(stream: BinaryIO) -> BinaryIO:
    """``stream`` itself when it can seek, else a spooled copy (at most one byte too many)."""
    try:
        if stream.seekable():
            return stream
    except (AttributeError, ValueError):
        pass
    copy = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
    remaining = MAX_FILE_SIZE + 1
    while remaining > 0 and (chunk := stream.read(min(64 * 1024, remaining))):
        copy.write(chunk)
        remaining -= len(chunk)
    copy.seek(0)
    return copy


def _remaining_size(stream: BinaryIO) -> int:
    """Bytes from the current position to the end, measured (Content-Length is not trusted)."""
    start = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(start)
    return end - start


def _documents_in_field(authorization_request: AuthorizationRequest, field: str) -> int:
    return sum(1 for document in authorization_request.documents if document.field == field)


def attach_documents(
    authorization_request: AuthorizationRequest,
    field: str,
    files: Iterable[FileStorage],
    *,
    user: User | None,
    storage: Storage | None = None,
) -> tuple[list[Document], list[str]]:
    """Check and store ``files``, adding a ``Document`` per accepted file to the request.

    Returns the accepted documents and the French messages of the refused files; one
    refused file does not prevent the others. Empty parts (no file chosen: the browser
    still sends one with an empty name) are skipped. A field holds at most
    ``MAX_FILES_PER_FIELD`` documents, counting those already attached.

    Nothing is committed: the caller commits. Files are written to the storage before
    that commit, so a transaction rolled back afterwards leaves stored files that no
    ``Document`` row points to. They are harmless (random keys, never served) and a
    purge that deletes stored keys without a ``Document`` row cleans them up.
    """
    storage = storage or get_storage()
    accepted: list[Document] = []
    errors: list[str] = []
    count = _documents_in_field(authorization_request, field)
    for upload in files:
        if upload is None or not upload.filename:
            continue
        shown = _message_name(upload.filename)
        stream = None
        try:
            if count >= MAX_FILES_PER_FIELD:
                raise _too_many(shown)
            stream = _seekable(upload.stream)
            size = _remaining_size(stream)
            if size > MAX_FILE_SIZE:
                raise _too_big(shown)
            if size == 0:
                raise _empty(shown)
            check_pdf(stream, shown)
            scanning.check_active_content(stream, shown)
            stored = storage.save(stream)
        except (UploadRejected, scanning.ActiveContent) as exc:
            errors.append(exc.message)
            continue
        finally:
            if stream is not None and stream is not upload.stream:
                stream.close()  # the spooled copy of a stream that could not seek
        document = Document(
            field=field,
            filename=safe_filename(upload.filename),
            storage_key=stored.key,
            content_type=ALLOWED_CONTENT_TYPE,
            size=stored.size,
            sha256=stored.sha256,
            uploaded_by=user,
        )
        authorization_request.documents.append(document)
        scanning.queue_scan(document)
        deliberation_analysis.queue_analysis(document)
        accepted.append(document)
        count += 1
    return accepted, errors


def _is_held_by_an_authorization(document: Document) -> bool:
    return (
        db.session.scalar(
            select(authorization_documents.c.authorization_id)
            .where(authorization_documents.c.document_id == document.id)
            .limit(1)
        )
        is not None
    )


def _delete_after_commit(storage: Storage, key: str) -> None:
    """Delete the stored file once the session's transaction commits (never on rollback)."""
    session = db.session()
    # Remember the innermost transaction: rolling it (or one around it) back cancels this.
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING_DELETIONS, []).append((storage, key, transaction))


def register() -> None:
    """Install the session listeners that delete removed documents' files once their
    transaction commits (``datapass.register_side_effects``; idempotent)."""
    if not event.contains(Session, "after_commit", _run_pending_deletions):
        event.listen(Session, "after_commit", _run_pending_deletions)
        event.listen(Session, "after_soft_rollback", _forget_pending_deletions)


def _run_pending_deletions(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    for storage, key, _transaction in session.info.pop(_PENDING_DELETIONS, ()):
        try:
            storage.delete(key)
        except OSError:
            logger.warning("Could not delete stored file %s; the purge will.", key)


def _within(transaction, rolled_back) -> bool:
    while transaction is not None:
        if transaction is rolled_back:
            return True
        transaction = transaction.parent
    return False


def _forget_pending_deletions(session: Session, previous_transaction) -> None:
    # The rows removed in the rolled-back transaction (or a savepoint inside it) come back,
    # so their files must stay; removals made outside it still happen at commit.
    pending = session.info.get(_PENDING_DELETIONS)
    if pending:
        session.info[_PENDING_DELETIONS] = [
            item for item in pending if not _within(item[2], previous_transaction)
        ]


def remove_document(
    authorization_request: AuthorizationRequest,
    document_id: int | str,
    *,
    storage: Storage | None = None,
) -> Document | None:
    """Detach the document ``document_id`` from ``request``; None if it is not one of its own.

    The row is deleted and flushed, and its stored file is deleted once the caller
    commits (a rolled-back removal keeps the file). A document that a habilitation holds
    (the snapshot made at approval) is only detached: its row and file stay. No commit.
    """
    try:
        wanted = int(document_id)
    except (TypeError, ValueError):
        return None
    document = next((doc for doc in authorization_request.documents if doc.id == wanted), None)
    if document is None:
        return None
    storage = storage or get_storage()
    authorization_request.documents.remove(document)
    if _is_held_by_an_authorization(document):
        db.session.flush()
        return document
    db.session.delete(document)
    db.session.flush()
    _delete_after_commit(storage, document.storage_key)
    return document


def send_document(document: Document, *, storage: Storage | None = None) -> Response:
    """The stored PDF as a download; the caller has checked that the user may see it.

    A document waiting for its malware scan, or found dangerous, is refused.
    """
    if not document.downloadable:
        if document.scan_state == SCAN_INFECTED:
            raise UploadRejected(
                f"Le fichier {_quoted(document.filename)} est dangereux{NBSP}: son "
                "téléchargement est bloqué."
            )
        raise UploadRejected(
            f"Le fichier {_quoted(document.filename)} est en cours d’analyse antivirus{NBSP}: "
            "réessayez dans quelques instants."
        )
    storage = storage or get_storage()
    response = send_file(
        storage.open(document.storage_key),
        mimetype=ALLOWED_CONTENT_TYPE,
        as_attachment=True,
        download_name=document.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    # Documents may hold personal data: no shared cache keeps a copy.
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response
