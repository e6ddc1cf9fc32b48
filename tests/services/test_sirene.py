"""The registry adapters against a local HTTP server answering like the real APIs."""

import time

import pytest
from werkzeug import Response

from datapass.services import sirene
from tests.support.sirene import NO_RESULT, insee_answer, recherche_entreprises_answer

SIRET = "26920023400012"


def config(httpserver, provider="recherche_entreprises", timeout=1.0):
    return {
        "SIRENE_PROVIDER": provider,
        "SIRENE_API_URL": httpserver.url_for("/").rstrip("/"),
        "SIRENE_API_TOKEN": "insee-key",
        "SIRENE_TIMEOUT_SECONDS": timeout,
    }


def test_open_establishment(httpserver):
    httpserver.expect_request(
        "/search", query_string={"q": SIRET, "page": "1", "per_page": "1"}
    ).respond_with_json(recherche_entreprises_answer(SIRET))
    info = sirene.lookup_establishment(SIRET, config(httpserver))
    assert info.name == "CENTRE COMMUNAL D'ACTION SOCIALE DE VILLEDEMO"
    assert info.address == "2 PLACE DE LA MAIRIE 26000 VILLEDEMO"
    assert info.commune == "VILLEDEMO"
    assert (info.naf_code, info.naf_label) == ("88.99B", "Action sociale sans hébergement n.c.a.")
    assert info.legal_category == "7361"
    assert info.administrative_state == "A"
    assert not info.is_closed
    assert info.diffusible


def test_closed_establishment(httpserver):
    httpserver.expect_request("/search").respond_with_json(
        recherche_entreprises_answer(SIRET, state="F")
    )
    assert sirene.lookup_establishment(SIRET, config(httpserver)).is_closed


def test_unknown_establishment(httpserver):
    httpserver.expect_request("/search").respond_with_json(NO_RESULT)
    with pytest.raises(sirene.SireneNotFound):
        sirene.lookup_establishment(SIRET, config(httpserver))


def test_other_establishment_of_the_same_unit_is_not_a_match(httpserver):
    httpserver.expect_request("/search").respond_with_json(
        recherche_entreprises_answer("26920023400020")
    )
    with pytest.raises(sirene.SireneNotFound):
        sirene.lookup_establishment(SIRET, config(httpserver))


def test_non_diffusible_establishment_keeps_no_hidden_marker(httpserver):
    httpserver.expect_request("/search").respond_with_json(
        recherche_entreprises_answer(SIRET, diffusible=False)
    )
    info = sirene.lookup_establishment(SIRET, config(httpserver))
    assert not info.diffusible
    assert info.name is None and info.address is None and info.commune is None
    assert info.administrative_state == "A"


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_quota_are_unavailable(httpserver, status):
    httpserver.expect_request("/search").respond_with_data("oops", status=status)
    with pytest.raises(sirene.SireneUnavailable):
        sirene.lookup_establishment(SIRET, config(httpserver))


def test_unreadable_answer_is_unavailable(httpserver):
    httpserver.expect_request("/search").respond_with_data("<html>maintenance</html>")
    with pytest.raises(sirene.SireneUnavailable):
        sirene.lookup_establishment(SIRET, config(httpserver))


def test_timeout_is_unavailable(httpserver):
    def slow(request):
        time.sleep(0.6)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/search").respond_with_handler(slow)
    started = time.monotonic()
    with pytest.raises(sirene.SireneUnavailable):
        sirene.lookup_establishment(SIRET, config(httpserver, timeout=0.2))
    assert time.monotonic() - started < 0.6


def test_connection_refused_is_unavailable():
    settings = {
        "SIRENE_PROVIDER": "recherche_entreprises",
        "SIRENE_API_URL": "http://127.0.0.1:9",
        "SIRENE_TIMEOUT_SECONDS": 0.5,
    }
    with pytest.raises(sirene.SireneUnavailable):
        sirene.lookup_establishment(SIRET, settings)


def test_insee_provider_sends_its_key(httpserver):
    httpserver.expect_request(
        f"/siret/{SIRET}", headers={"X-INSEE-Api-Key-Integration": "insee-key"}
    ).respond_with_json(insee_answer(SIRET))
    info = sirene.lookup_establishment(SIRET, config(httpserver, "insee"))
    assert info.name == "CENTRE COMMUNAL D'ACTION SOCIALE DE VILLEDEMO"
    assert info.address == "2 PL DE LA MAIRIE 26000 VILLEDEMO"
    assert info.naf_label == "Action sociale sans hébergement n.c.a."
    assert info.administrative_state == "A"


def test_insee_closed_unknown_and_non_diffusible(httpserver):
    httpserver.expect_request(f"/siret/{SIRET}").respond_with_json(
        insee_answer(SIRET, state="F", diffusible=False)
    )
    info = sirene.lookup_establishment(SIRET, config(httpserver, "insee"))
    assert info.is_closed and not info.diffusible
    httpserver.clear()
    httpserver.expect_request(f"/siret/{SIRET}").respond_with_json(
        {"header": {"statut": 404, "message": "Aucun élément trouvé"}}, status=404
    )
    with pytest.raises(sirene.SireneNotFound):
        sirene.lookup_establishment(SIRET, config(httpserver, "insee"))
