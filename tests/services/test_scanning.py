"""Uploads' content: active PDFs refused at upload, malware scanned by the worker (clamd).

The scan talks to ``tests/support/clamd.py``, a local server speaking clamd's protocol that
flags the EICAR test string (ClamAV's signature database cannot be downloaded here).
"""

from __future__ import annotations

import io

import pytest
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject
from werkzeug.datastructures import FileStorage

from datapass import clamd, outbox
from datapass.models import Document
from datapass.models.document import SCAN_CLEAN, SCAN_INFECTED, SCAN_PENDING
from datapass.models.outbox import JOB_PENDING, OutboxJob
from datapass.services import documents, scanning
from datapass.storage import LocalStorage
from tests.factories import AuthorizationRequestFactory
from tests.support.clamd import EICAR, SIGNATURE, ClamdServer

NBSP = "\u00a0"
FIELD = "cadre_juridique_document"


def written(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def plain_pdf() -> PdfWriter:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    return writer


def with_javascript() -> bytes:
    writer = plain_pdf()
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('bonjour');"),
        }
    )
    tree = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("x"), writer._add_object(action)])}
    )
    writer._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/JavaScript"): writer._add_object(tree)}
    )
    return written(writer)


def with_open_action_script() -> bytes:
    writer = plain_pdf()
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.launchURL('https://x.example')"),
        }
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    return written(writer)


def with_launch_annotation() -> bytes:
    writer = plain_pdf()
    action = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")}
    )
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): action})
    return written(writer)


def with_attachment() -> bytes:
    writer = plain_pdf()
    writer.add_attachment("facture.exe", b"MZ\x90\x00")
    return written(writer)


# Hand-written, without cross-reference: the name is hex-escaped (« /J#61vaScript ») and the
# action is in no object the catalogue points to; byte searching for "/JavaScript" misses it.
OBFUSCATED = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n"
    b"7 0 obj<</S/J#61vaScript/J#53 (app.alert\\(1\\))>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
# The test suite's minimal PDF (no cross-reference) stays accepted.
MINIMAL = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def refused(name: str) -> str:
    return (
        f"Le fichier «{NBSP}{name}{NBSP}» contient du contenu actif (script, lancement "
        f"d’application ou fichier joint) et n’a pas été accepté{NBSP}: enregistrez-le de "
        f"nouveau en PDF simple (par exemple avec «{NBSP}Imprimer en PDF{NBSP}») puis réessayez."
    )


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(lambda: written(plain_pdf()), id="blank-page"),
        pytest.param(lambda: MINIMAL, id="minimal"),
    ],
)
def test_a_plain_pdf_is_accepted(content):
    stream = io.BytesIO(content())
    scanning.check_active_content(stream, "a.pdf")
    assert stream.tell() == 0


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(with_javascript, id="javascript-name-tree"),
        pytest.param(with_open_action_script, id="open-action-script"),
        pytest.param(with_launch_annotation, id="launch-page-action"),
        pytest.param(with_attachment, id="embedded-file"),
        pytest.param(lambda: OBFUSCATED, id="hex-escaped-unreferenced"),
    ],
)
def test_active_content_is_refused_in_french(content):
    with pytest.raises(scanning.ActiveContent) as error:
        scanning.check_active_content(io.BytesIO(content()), "délibération.pdf")
    assert error.value.message == refused("délibération.pdf")


def test_an_encrypted_pdf_that_cannot_be_opened_is_refused():
    writer = plain_pdf()
    writer.encrypt(user_password="secret", owner_password="owner")
    with pytest.raises(scanning.ActiveContent) as error:
        scanning.check_active_content(io.BytesIO(written(writer)), "a.pdf")
    assert "protégé par un mot de passe" in error.value.message


def test_attach_refuses_an_active_pdf_and_stores_nothing(app, db, tmp_path):
    draft = AuthorizationRequestFactory(data={"intitule": "Aides"})
    storage = LocalStorage(tmp_path / "storage")
    upload = FileStorage(stream=io.BytesIO(with_javascript()), filename="d.pdf")
    accepted, errors = documents.attach_documents(
        draft, FIELD, [upload], user=None, storage=storage
    )
    assert accepted == [] and errors == [refused("d.pdf")]
    assert not list((tmp_path / "storage").rglob("*.*"))


# ---------------------------------------------------------------- the malware scan


@pytest.fixture
def clamd_server(app, monkeypatch):
    with ClamdServer() as server:
        monkeypatch.setitem(app.config, "MALWARE_SCANNER", "clamd")
        monkeypatch.setitem(app.config, "CLAMD_ADDRESS", server.address)
        yield server


def attach(content: bytes, name: str = "d.pdf") -> Document:
    draft = AuthorizationRequestFactory(data={"intitule": "Aides"})
    upload = FileStorage(stream=io.BytesIO(content), filename=name)
    [document], errors = documents.attach_documents(draft, FIELD, [upload], user=None)
    assert errors == []
    return document


def pdf_carrying(payload: bytes) -> bytes:
    # The scanner looks at the bytes, not at the PDF structure.
    return b"%PDF-1.4\n%" + payload + b"\n1 0 obj<</Type/Catalog>>endobj\n%%EOF\n"


def test_a_clean_document_is_pending_then_clean(db, clamd_server):
    document = attach(pdf_carrying(b"rien"))
    db.session.commit()
    assert document.scan_state == SCAN_PENDING and not document.downloadable
    [job] = db.session.query(OutboxJob).filter_by(kind="scan").all()
    assert job.payload == {"storage_key": document.storage_key}
    assert outbox.drain() == 2  # the scan, and the délibération's text analysis
    db.session.refresh(document)
    assert document.scan_state == SCAN_CLEAN and document.scanned_at is not None
    assert document.downloadable and document.scan_label == "Aucun virus détecté"
    assert clamd_server.scanned == 1


def test_the_eicar_string_makes_a_dangerous_document(db, clamd_server):
    document = attach(pdf_carrying(EICAR))
    db.session.commit()
    outbox.drain()
    db.session.refresh(document)
    assert document.scan_state == SCAN_INFECTED and document.scan_threat == SIGNATURE
    assert not document.downloadable
    assert document.scan_label == f"Fichier dangereux{NBSP}: téléchargement bloqué"
    with pytest.raises(documents.UploadRejected) as error:
        documents.send_document(document)
    assert error.value.message == (
        f"Le fichier «{NBSP}d.pdf{NBSP}» est dangereux{NBSP}: son téléchargement est bloqué."
    )


def test_clamd_unreachable_keeps_the_document_pending_and_retries(app, db, monkeypatch):
    with ClamdServer() as server:
        address = server.address  # a port nobody listens on once the server is closed
    monkeypatch.setitem(app.config, "MALWARE_SCANNER", "clamd")
    monkeypatch.setitem(app.config, "CLAMD_ADDRESS", address)
    document = attach(pdf_carrying(b"rien"))
    db.session.commit()
    outbox.drain()
    db.session.refresh(document)
    job = db.session.query(OutboxJob).filter_by(kind="scan").one()
    assert job.state == JOB_PENDING and job.attempts == 1 and "unreachable" in job.last_error
    assert document.scan_state == SCAN_PENDING and not document.downloadable
    with pytest.raises(documents.UploadRejected, match="en cours d’analyse antivirus"):
        documents.send_document(document)


def test_without_scanner_nothing_is_queued(app, db):
    assert app.config["MALWARE_SCANNER"] == "none"
    document = attach(pdf_carrying(EICAR))
    db.session.commit()
    assert document.scan_state is None and document.downloadable
    assert db.session.query(OutboxJob).filter_by(kind="scan").count() == 0


def test_the_client_speaks_instream_over_several_chunks():
    with ClamdServer() as server:
        big = b"A" * (3 * clamd.CHUNK_SIZE + 5) + EICAR
        assert clamd.scan_stream(server.address, io.BytesIO(big)) == SIGNATURE
        assert clamd.scan_stream(server.address, io.BytesIO(b"A" * 10)) is None
        assert server.scanned == 2


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("tcp://clamav.internal:3310", (clamd.socket.AF_INET, ("clamav.internal", 3310))),
        ("clamav.internal", (clamd.socket.AF_INET, ("clamav.internal", 3310))),
        ("unix:///run/clamav/clamd.ctl", (clamd.socket.AF_UNIX, "/run/clamav/clamd.ctl")),
    ],
)
def test_clamd_addresses(address, expected):
    assert clamd.parse_address(address) == expected
