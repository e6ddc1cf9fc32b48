"""No internal reach: webhook URLs resolved once, to a checked public address, on allowed ports.

Host names are given by a resolver injected in the configuration (``WEBHOOK_RESOLVER``), the
way a test DNS would; the receivers are local HTTP(S) servers (pytest-httpserver).
"""

from __future__ import annotations

import datetime
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer

from config import ConfigurationError, load_config
from datapass.outbound import UrlRefused, resolve
from datapass.services import webhook_delivery as delivery
from tests.support.webhooks import attempts, make_webhook
from tests.unit.test_config import GOOD_PRODUCTION


class Resolver:
    """A test DNS: names to addresses, each answer taken in turn; counts the look-ups."""

    def __init__(self, **names: list[list[str]]):
        self.names = {name.replace("_", "."): list(answers) for name, answers in names.items()}
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answers = self.names[host]
        return answers.pop(0) if len(answers) > 1 else answers[0]


@pytest.fixture
def strict(app, monkeypatch):
    """Production-like rules outside production: no private network."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_NETWORKS", False)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.5",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space
        "0.0.0.0",  # noqa: S104 (an address refused, not bound)
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_internal_addresses_are_refused(app, strict, monkeypatch, address):
    monkeypatch.setitem(app.config, "WEBHOOK_RESOLVER", Resolver(hooks_test=[[address]]))
    with pytest.raises(UrlRefused, match="réseau interne"):
        resolve("https://hooks.test/webhook", app.config)


def test_a_name_with_one_internal_address_among_public_ones_is_refused(app, strict, monkeypatch):
    resolver = Resolver(hooks_test=[["93.184.215.14", "10.0.0.7"]])
    monkeypatch.setitem(app.config, "WEBHOOK_RESOLVER", resolver)
    with pytest.raises(UrlRefused):
        resolve("https://hooks.test/webhook", app.config)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.test/a", True),
        ("http://hooks.test:80/a", True),
        ("https://hooks.test:8443/a", False),
        ("https://hooks.test:22/a", False),
        ("https://hooks.test:6379/a", False),
    ],
)
def test_only_ports_443_80_and_the_allowlist(app, strict, monkeypatch, url, allowed):
    monkeypatch.setitem(app.config, "WEBHOOK_RESOLVER", Resolver(hooks_test=[["93.184.215.14"]]))
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_PORTS", ())
    if allowed:
        assert resolve(url, app.config).address == "93.184.215.14"
    else:
        with pytest.raises(UrlRefused, match="port"):
            resolve(url, app.config)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_PORTS", (8443, 22, 6379))
    assert resolve(url, app.config).port in (443, 80, 8443, 22, 6379)


def test_credentials_in_the_url_are_refused(app):
    with pytest.raises(UrlRefused, match="identifiants"):
        resolve("https://moi:secret@hooks.test/a", app.config)


def test_a_refused_target_is_neither_called_nor_its_answer_logged(
    app, db, strict, httpserver, monkeypatch
):
    httpserver.expect_request("/hook").respond_with_data("secret interne", status=200)
    webhook = make_webhook(httpserver, events=["submit"])
    with app.app_context():
        result = delivery.post(webhook, "{}", "d-1")
    assert result.status is None and result.error.startswith("URL refusée")
    assert httpserver.log == []


def test_the_connection_goes_to_the_address_checked_once(app, db, httpserver, monkeypatch):
    """DNS rebinding: the name answers a checked address, then an internal one; the POST
    still goes to the first, and the name is resolved once per delivery."""
    port = httpserver.port
    resolver = Resolver(hooks_test=[["127.0.0.1"], ["10.255.255.1"]])
    monkeypatch.setitem(app.config, "WEBHOOK_RESOLVER", resolver)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok", status=200)
    webhook = make_webhook(httpserver, url=f"http://hooks.test:{port}/hook?x=1")
    with app.app_context():
        result = delivery.post(webhook, "{}", "d-1")
    assert result.status == 200 and resolver.calls == ["hooks.test"]
    [(request, _)] = httpserver.log
    assert request.headers["Host"] == f"hooks.test:{port}" and request.args["x"] == "1"


def test_an_internal_target_allowed_in_development_keeps_no_answer_in_the_log(app, db, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("page interne", status=200)
    webhook = make_webhook(httpserver, events=["submit"])
    with app.app_context():
        result = delivery.post(webhook, "{}", "d-1")
        delivery.record(
            webhook, event="submit", request_id=None, body="{}", delivery_id="d-1", result=result
        )
        db.session.commit()
    [attempt] = attempts(webhook)
    assert attempt.success and attempt.response_excerpt == ""


def test_redirects_are_not_followed(app, db, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data(
        "", status=307, headers={"Location": httpserver.url_for("/internal")}
    )
    httpserver.expect_request("/internal").respond_with_data("interne", status=200)
    webhook = make_webhook(httpserver)
    with app.app_context():
        result = delivery.post(webhook, "{}", "d-1")
    assert result.status == 307
    assert [request.path for request, _ in httpserver.log] == ["/hook"]


def test_production_refuses_private_networks():
    with pytest.raises(ConfigurationError, match="WEBHOOK_ALLOW_PRIVATE_NETWORKS"):
        load_config({**GOOD_PRODUCTION, "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1"})


def test_allowed_ports_are_parsed():
    assert load_config({"WEBHOOK_ALLOWED_PORTS": "8443, 9000"})["WEBHOOK_ALLOWED_PORTS"] == (
        8443,
        9000,
    )
    with pytest.raises(ConfigurationError, match="WEBHOOK_ALLOWED_PORTS"):
        load_config({"WEBHOOK_ALLOWED_PORTS": "https"})


# ---------------------------------------------------------------- TLS to the checked address


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A test certificate authority and a certificate for ``hooks.test`` signed by it."""
    folder = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject, issuer, key, signing_key, *, ca, names=()):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(name) for name in names]),
                critical=False,
            )
        return builder.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("DataPass test CA", "DataPass test CA", ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = certificate(
        "hooks.test", "DataPass test CA", key, ca_key, ca=False, names=["hooks.test"]
    )
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "cert.pem").write_bytes(leaf.public_bytes(pem))
    (folder / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder


@pytest.fixture
def tls_receiver(app, tls_files, monkeypatch):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files / "cert.pem", tls_files / "key.pem")
    server = HTTPServer(host="127.0.0.1", ssl_context=context)
    server.start()
    server.expect_request("/hook", method="POST").respond_with_data("ok", status=200)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_PORTS", (server.port,))
    monkeypatch.setitem(app.config, "WEBHOOK_CA_BUNDLE", str(tls_files / "ca.pem"))
    monkeypatch.setitem(
        app.config,
        "WEBHOOK_RESOLVER",
        Resolver(hooks_test=[["127.0.0.1"]], autre_test=[["127.0.0.1"]]),
    )
    yield server
    server.clear()
    server.stop()


def test_tls_checks_the_certificate_of_the_host_name_at_the_checked_address(app, db, tls_receiver):
    webhook = make_webhook(tls_receiver, url=f"https://hooks.test:{tls_receiver.port}/hook")
    with app.app_context():
        result = delivery.post(webhook, "{}", "d-1")
    assert result.status == 200
    [(request, _)] = tls_receiver.log
    assert request.headers["Host"] == f"hooks.test:{tls_receiver.port}"


def test_tls_refuses_a_certificate_for_another_name(app, db, tls_receiver):
    webhook = make_webhook(tls_receiver, url=f"https://autre.test:{tls_receiver.port}/hook")
    with app.app_context():
        result = delivery.post(webhook, "{}", "d-1")
    assert result.status is None and result.error == "SSLError"
    assert tls_receiver.log == []
