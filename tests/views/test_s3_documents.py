"""Documents in S3-compatible object storage (issue 16), against a real S3 API server."""

from __future__ import annotations

import io

import pytest

from config import ConfigurationError, load_config
from datapass.catalog import DEFAULT_DIR, load_catalog
from datapass.models import AuthorizationRequest
from datapass.storage import LocalStorage, S3Storage, storage_from_config
from tests.support.http import reload
from tests.support.wizard import start, upload_documents

FACULTATIVES = load_catalog(DEFAULT_DIR).form(
    "api-particulier-aides-sociales-ccas-dont-facultatives"
)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def objects(storage: S3Storage) -> list[str]:
    listing = storage.client.list_objects_v2(Bucket=storage.bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_the_storage_saves_opens_and_deletes_objects(s3_storage):
    stored = s3_storage.save(io.BytesIO(PDF))
    assert stored.size == len(PDF) and len(stored.sha256) == 64
    assert objects(s3_storage) == [f"documents/{stored.key}"]
    assert s3_storage.exists(stored.key)
    with s3_storage.open(stored.key) as stream:
        assert stream.read() == PDF
    s3_storage.delete(stored.key)
    assert not s3_storage.exists(stored.key) and objects(s3_storage) == []
    s3_storage.delete(stored.key)  # a missing object is not an error
    with pytest.raises(FileNotFoundError):
        s3_storage.open(stored.key)
    with pytest.raises(ValueError):
        s3_storage.exists("../../etc/passwd")


def test_uploaded_documents_go_to_the_bucket_and_download_for_members_only(
    client, db, login_as, s3_storage
):
    login_as()
    request_id = start(client, FACULTATIVES)
    assert (
        upload_documents(client, request_id, [(io.BytesIO(PDF), "délibération.pdf")]).status_code
        == 302
    )
    [document] = reload(AuthorizationRequest, request_id).documents
    assert objects(s3_storage) == [f"documents/{document.storage_key}"]
    download = client.get(f"/demandes/{request_id}/documents/{document.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()
    login_as()  # someone else: the document is not theirs to see
    assert client.get(f"/demandes/{request_id}/documents/{document.id}").status_code == 404


def test_a_removed_document_is_deleted_from_the_bucket(client, db, login_as, s3_storage):
    login_as()
    request_id = start(client, FACULTATIVES)
    upload_documents(client, request_id, [(io.BytesIO(PDF), "a.pdf")])
    [document] = reload(AuthorizationRequest, request_id).documents
    key = document.storage_key
    assert s3_storage.exists(key)
    response = upload_documents(client, request_id, [], extra={"remove_document": str(document.id)})
    assert response.status_code == 302
    assert reload(AuthorizationRequest, request_id).documents == []
    assert not s3_storage.exists(key) and objects(s3_storage) == []


def test_storage_url_selects_the_bucket_and_local_disk_stays_the_default(tmp_path):
    config = load_config({"INSTANCE_DIR": str(tmp_path)})
    assert config["STORAGE_URL"] == "" and isinstance(storage_from_config(config), LocalStorage)
    config = load_config(
        {
            "STORAGE_URL": "s3://datapass-docs/prod/documents",
            "S3_ENDPOINT_URL": "https://s3.gra.io.cloud.ovh.net",
        }
    )
    storage = storage_from_config(config)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == ("datapass-docs", "prod/documents")
    assert storage.client.meta.endpoint_url == "https://s3.gra.io.cloud.ovh.net"
    for wrong in ("datapass-docs", "https://bucket/x", "s3:///prefix"):
        with pytest.raises(ConfigurationError, match="STORAGE_URL"):
            load_config({"STORAGE_URL": wrong})


def test_the_health_check_says_whether_database_and_storage_answer(
    app, client, db, s3_server, monkeypatch
):
    response = client.get("/sante")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "storage": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    missing = storage_from_config(
        {"STORAGE_URL": "s3://no-such-bucket", "S3_ENDPOINT_URL": s3_server.endpoint_url}
    )
    monkeypatch.setitem(app.extensions, "storage", missing)
    response = client.get("/sante")
    assert response.status_code == 503
    assert response.get_json() == {"status": "erreur", "database": "ok", "storage": "erreur"}
