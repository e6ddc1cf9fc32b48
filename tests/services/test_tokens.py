"""The tokens service called directly: issue, reveal, rotate, prolong, revoke, introspect, remind.

The same rules seen through the pages and the introspection endpoint are in
``tests/views/test_tokens.py``.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select

from datapass.catalog import DEFAULT_DIR, load_catalog
from datapass.crypto import unseal
from datapass.errors import UserError
from datapass.models import ApiToken, OutboxJob, TokenReminder
from datapass.models.base import utcnow
from datapass.services import decisions, tokens
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.catalogs import add_definition
from tests.support.http import reload
from tests.support.statements import Statements

INSTRUCTOR = "api_particulier:instructor"
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
NBSP = "\u00a0"  # before « : » in French messages


@pytest.fixture
def in_request(app, db):
    """Emails are composed with the request's URLs: services run in a request context."""
    with app.test_request_context():
        yield


@pytest.fixture
def instructor(in_request):
    return UserFactory(roles=[INSTRUCTOR])


@pytest.fixture
def authorization(instructor):
    """The habilitation (and its token) of a request approved by an instructor."""
    request = submitted_request()
    return decisions.decide(request, "approve", instructor, version=request.version)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def revoke(authorization, instructor):
    request = authorization.request
    decisions.decide(request, "revoke", instructor, version=request.version, reason="Fin")


# ---------------------------------------------------------------- issue


def test_approval_issues_a_token_of_which_only_the_hash_and_last_chars_are_kept(authorization):
    [token] = authorization.tokens
    value = unseal(token.sealed_value)
    assert value.startswith("dpt_") and len(value) == 4 + 43
    assert token.token_hash == sha256(value)
    assert token.last_chars == value[-4:]
    stored = [str(getattr(token, column.key)) for column in ApiToken.__table__.columns]
    assert not [column for column in stored if value in column]  # sealed, never in clear
    assert token.scopes == authorization.data["scopes"] and token.scopes
    assert token.expires_at - token.issued_at == timedelta(days=548)
    assert token.revoked_at is None and token.revealed_at is None
    assert tokens.current_token(authorization) is token


def test_two_tokens_never_share_a_value(authorization):
    now = utcnow()
    second = tokens.issue(authorization, now=now)
    first = authorization.tokens[0]
    assert second.token_hash != first.token_hash and second.jti != first.jti
    assert unseal(second.sealed_value) != unseal(first.sealed_value)
    assert (second.issued_at, second.expires_at) == (now, now + timedelta(days=548))


def test_the_lifetime_is_the_setting_or_the_definitions_own(app, monkeypatch, tmp_path, in_request):
    monkeypatch.setitem(app.config, "TOKEN_LIFETIME_DAYS", 30)
    assert tokens.lifetime() == tokens.lifetime("api_particulier") == timedelta(days=30)
    assert tokens.lifetime("unknown_definition") == timedelta(days=30)
    catalog = shutil.copytree(DEFAULT_DIR, tmp_path / "catalog")
    definition = catalog / "definitions" / "api_particulier.yml"
    text = definition.read_text()
    assert "public: true\n" in text
    definition.write_text(
        text.replace("public: true\n", "public: true\ntoken_lifetime_days: 365\n")
    )
    monkeypatch.setitem(app.extensions, "catalog", load_catalog(catalog))
    assert tokens.lifetime("api_particulier") == timedelta(days=365)
    assert tokens.lifetime() == timedelta(days=30)
    instructor = UserFactory(roles=[INSTRUCTOR])
    request = submitted_request()
    authorization = decisions.decide(request, "approve", instructor, version=request.version)
    [token] = authorization.tokens
    assert token.expires_at - token.issued_at == timedelta(days=365)


# ---------------------------------------------------------------- reveal


def test_the_value_is_revealed_exactly_once(authorization):
    token = authorization.tokens[0]
    member = authorization.applicant
    value = tokens.reveal(token, member)
    assert sha256(value) == token.token_hash and value.endswith(token.last_chars)
    token = reload(token)  # committed
    assert token.sealed_value is None
    assert token.revealed_at is not None and token.revealed_by == member
    with pytest.raises(tokens.TokenError) as refused:
        tokens.reveal(token, member)
    assert refused.value.message == (
        f"Ce jeton a déjà été affiché{NBSP}: il ne peut plus l’être. Renouvelez-le."
    )
    assert isinstance(refused.value, UserError) and refused.value.status == 422


def test_a_revoked_token_is_never_revealed(authorization, instructor):
    token = authorization.tokens[0]
    revoke(authorization, instructor)
    assert reload(token).sealed_value is None
    with pytest.raises(tokens.TokenError):
        tokens.reveal(token, authorization.applicant)


def test_a_value_sealed_under_a_former_secret_key_cannot_be_revealed(
    app, monkeypatch, authorization
):
    token = authorization.tokens[0]
    sealed = token.sealed_value
    monkeypatch.setitem(app.config, "SECRET_KEY", "une-autre-clef-secrete-" * 2)
    with pytest.raises(tokens.TokenError) as refused:
        tokens.reveal(token, authorization.applicant)
    assert refused.value.message == f"Ce jeton ne peut plus être affiché{NBSP}: renouvelez-le."
    assert token.sealed_value == sealed and token.revealed_at is None


# ---------------------------------------------------------------- rotate


@pytest.mark.parametrize("overlap_days", [7, 2])
def test_rotation_keeps_the_previous_token_for_the_overlap_then_not(
    app, monkeypatch, authorization, overlap_days
):
    monkeypatch.setitem(app.config, "TOKEN_ROTATION_OVERLAP_DAYS", overlap_days)
    overlap = timedelta(days=overlap_days)
    member = authorization.applicant
    previous = authorization.tokens[0]
    end = previous.expires_at
    old = tokens.reveal(previous, member)
    now = utcnow()
    token = tokens.rotate(authorization, member, now=now)
    new = tokens.reveal(token, member)
    assert new != old
    assert tokens.current_token(authorization) is token
    previous, token = reload(previous), reload(token)
    assert previous.replaced_by_id == token.id
    assert previous.expires_at == now + overlap
    assert token.expires_at == end  # a rotation does not prolong
    assert tokens.find_active(old, now=now + overlap - SECOND) == previous
    assert tokens.find_active(new, now=now + overlap - SECOND) == token
    assert tokens.find_active(old, now=now + overlap) is None
    assert tokens.find_active(new, now=now + overlap) == token


def test_rotating_a_token_about_to_expire_gives_a_day_and_keeps_the_earlier_end(authorization):
    member = authorization.applicant
    previous = authorization.tokens[0]
    now = utcnow()
    previous.expires_at = now + timedelta(hours=2)
    token = tokens.rotate(authorization, member, now=now)
    assert reload(previous).expires_at == now + timedelta(hours=2)  # not lengthened
    assert reload(token).expires_at == now + DAY


def test_only_an_active_habilitation_rotates_its_token(authorization, instructor):
    revoke(authorization, instructor)
    with pytest.raises(tokens.TokenError) as refused:
        tokens.rotate(reload(authorization), authorization.applicant)
    assert refused.value.message == "Seule une habilitation active a un jeton."
    assert len(reload(authorization).tokens) == 1


# ---------------------------------------------------------------- prolong


@pytest.mark.parametrize(
    ("days_left", "allowed"),
    [(91, False), (90, True), (20, True), (-5, True)],
    ids=["91-days-left", "90-days-left", "20-days-left", "expired"],
)
def test_prolongation_only_in_the_last_90_days(authorization, days_left, allowed):
    token = authorization.tokens[0]
    now = utcnow()
    expires_at = now + timedelta(days=days_left)
    token.expires_at = expires_at
    assert tokens.can_prolong(token, now) is allowed
    if not allowed:
        with pytest.raises(tokens.TokenError) as refused:
            tokens.prolong(authorization, now=now)
        assert refused.value.message == (
            "Le jeton peut être prolongé dans les 90 jours qui précèdent son expiration."
        )
        assert token.expires_at == expires_at
        return
    assert tokens.prolong(authorization, now=now) is token
    # From the current expiry, or from now once expired.
    assert reload(token).expires_at == max(expires_at, now) + timedelta(days=548)


def test_a_revoked_habilitation_cannot_be_prolonged(authorization, instructor):
    authorization.tokens[0].expires_at = utcnow() + timedelta(days=10)
    revoke(authorization, instructor)
    with pytest.raises(tokens.TokenError) as refused:
        tokens.prolong(reload(authorization))
    assert refused.value.message == "Cette habilitation n’a pas de jeton actif à prolonger."


# ---------------------------------------------------------------- revoke, retire


def test_revocation_revokes_every_token_and_erases_the_seals(authorization, db):
    replaced = authorization.tokens[0]
    current = tokens.rotate(authorization, authorization.applicant)
    value = unseal(current.sealed_value)
    revoked_before = tokens.issue(authorization)
    revoked_before.revoked_at = earlier = utcnow() - DAY
    now = utcnow()
    tokens.revoke_tokens(authorization, now=now)
    db.session.commit()  # the revocation's transaction commits, not this function
    for token in (replaced, current):
        token = reload(token)
        assert token.revoked_at == now and token.sealed_value is None
    assert reload(revoked_before).revoked_at == earlier  # left as it was
    assert tokens.find_active(value) is None
    assert tokens.current_token(authorization) is None


def test_an_obsolete_habilitation_keeps_its_token_for_the_overlap(authorization, db):
    token = authorization.tokens[0]
    value = tokens.reveal(token, authorization.applicant)
    now = utcnow()
    authorization.state = "obsolete"
    tokens.retire_tokens(authorization, now=now)
    db.session.commit()
    assert reload(token).expires_at == now + timedelta(days=7)
    assert tokens.find_active(value, now=now + timedelta(days=7) - SECOND) == token
    assert tokens.find_active(value, now=now + timedelta(days=7)) is None


def test_retiring_never_lengthens_nor_revives_a_token(authorization, db):
    member = authorization.applicant
    soon = authorization.tokens[0]
    revoked = tokens.rotate(authorization, member)
    now = utcnow()
    soon.expires_at = now + timedelta(hours=1)
    revoked.revoked_at = now - DAY
    revoked_until = revoked.expires_at
    tokens.retire_tokens(authorization, now=now)
    db.session.commit()
    assert reload(soon).expires_at == now + timedelta(hours=1)
    assert reload(revoked).expires_at == revoked_until
    assert reload(revoked).revoked_at == now - DAY


# ---------------------------------------------------------------- find_active, introspection


@pytest.mark.parametrize(
    "value",
    ["", "not-a-token", "dpc_" + "a" * 43, "DPT_" + "a" * 43, "dpt_" + "a" * 200, None, 42],
    ids=["empty", "no-prefix", "client-prefix", "upper-case", "too-long", "none", "int"],
)
def test_malformed_values_are_refused_without_a_query(db, value):
    with Statements(db.engine) as statements:
        assert tokens.find_active(value) is None
    assert statements.on("api_tokens") == []


def test_unknown_expired_and_revoked_tokens_are_not_active(authorization, db):
    token = authorization.tokens[0]
    value = tokens.reveal(token, authorization.applicant)
    assert tokens.find_active("dpt_" + "x" * 43) is None  # unknown
    assert tokens.find_active(value[:-1]) is None
    assert tokens.find_active(value) == token
    assert tokens.find_active(value, now=token.expires_at) is None  # expired
    assert tokens.find_active(value, now=token.expires_at - SECOND) == token
    token.revoked_at = utcnow()
    db.session.commit()
    assert tokens.find_active(value) is None  # revoked token
    token.revoked_at = None
    authorization.state = "revoked"
    db.session.commit()
    assert tokens.find_active(value) is None  # revoked habilitation


def test_find_active_is_one_equality_on_the_unique_hash_index(authorization, db):
    token = authorization.tokens[0]
    value = tokens.reveal(token, authorization.applicant)
    tokens.find_active(value)  # last_used_at written now
    with Statements(db.engine) as statements:
        assert tokens.find_active(value) == token
    [lookup] = statements.on("api_tokens")
    where = lookup.split("WHERE", 1)[1]
    assert "api_tokens.token_hash = " in where and " AND " not in where and "LIKE" not in where
    schema = inspect(db.session.connection())
    unique = [c["column_names"] for c in schema.get_unique_constraints("api_tokens")] + [
        i["column_names"] for i in schema.get_indexes("api_tokens") if i["unique"]
    ]
    assert ["token_hash"] in unique


def test_last_use_is_written_at_most_once_a_minute(authorization):
    token = authorization.tokens[0]
    value = tokens.reveal(token, authorization.applicant)
    now = utcnow()
    tokens.find_active(value, now=now)
    assert reload(token).last_used_at == now
    tokens.find_active(value, now=now + timedelta(seconds=59))
    assert reload(token).last_used_at == now
    tokens.find_active(value, now=now + timedelta(minutes=1))
    assert reload(token).last_used_at == now + timedelta(minutes=1)


def test_introspection_of_an_active_and_of_no_token(authorization):
    token = authorization.tokens[0]
    organization = authorization.organization
    assert tokens.introspection(None) == {"active": False}
    assert tokens.introspection(token) == {
        "active": True,
        "scope": " ".join(authorization.data["scopes"]),
        "exp": int(token.expires_at.timestamp()),
        "iat": int(token.issued_at.timestamp()),
        "jti": token.jti,
        "sub": organization.siret,
        "client_id": f"H{authorization.id}",
        "habilitation": f"H{authorization.id}",
        "organization_name": organization.display_name,
    }


def test_a_client_sees_the_tokens_of_its_definition_only(app, monkeypatch, authorization):
    other = add_definition(app, monkeypatch)
    token = authorization.tokens[0]
    value = tokens.reveal(token, authorization.applicant)
    stranger, _ = tokens.create_client("API Entreprise", definition_id=other)
    own, _ = tokens.create_client("API Particulier", definition_id="api_particulier")
    assert tokens.introspect(stranger, value) == {"active": False}
    assert reload(token).last_used_at is None  # not a use of the token
    assert tokens.find_active(value, definition_id=other) is None
    assert tokens.introspect(own, value)["active"] is True
    assert tokens.find_active(value, definition_id="api_particulier") == token
    own.definition_id = None  # a client without a definition sees nothing
    assert tokens.introspect(own, value) == {"active": False}


def test_introspection_is_one_statement_without_lazy_loads(authorization, db):
    token = authorization.tokens[0]
    value = tokens.reveal(token, authorization.applicant)
    client, _ = tokens.create_client("API Particulier")
    tokens.introspect(client, value)  # last_used_at written now
    db.session.expire_all()
    assert client.definition_id == "api_particulier"  # loaded by authentication, in the API
    with Statements(db.engine) as statements:
        answer = tokens.introspect(client, value)
        found = tokens.find_active(value, definition_id=tokens.LEGACY_INTROSPECTION_DEFINITION)
        assert found.authorization.request.intitule  # the legacy endpoint's name
    assert answer["active"] is True and answer["sub"] == authorization.organization.siret
    selects = [sql for sql in statements.sql if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, selects  # one per lookup, habilitation and organisation joined
    assert all("FROM api_tokens" in sql and "JOIN authorizations" in sql for sql in selects)


# ---------------------------------------------------------------- API clients


def test_a_client_keeps_only_the_hash_of_its_secret(db):
    client, secret = tokens.create_client("  Fournisseur de données  ")
    client = reload(client)
    assert client.client_id.startswith("dpc_") and client.name == "Fournisseur de données"
    assert client.kind == "introspection" and client.secret_hash == sha256(secret)
    assert secret not in repr([getattr(client, c.key) for c in client.__table__.columns])


def test_client_authentication_refuses_a_wrong_secret_kind_or_revocation(db):
    client, secret = tokens.create_client("Fournisseur")
    assert tokens.authenticate_client(client.client_id, secret) == client
    assert tokens.authenticate_client(client.client_id, secret + "x") is None
    assert tokens.authenticate_client(client.client_id, secret[:-1]) is None
    assert tokens.authenticate_client(client.client_id, "") is None
    assert tokens.authenticate_client(client.client_id, None) is None
    assert tokens.authenticate_client("dpc_unknown", secret) is None
    assert tokens.authenticate_client(client.client_id, secret, kind="developer") is None
    application, app_secret = tokens.create_client("Connecteur", kind="developer")
    assert tokens.authenticate_client(application.client_id, app_secret) is None
    assert tokens.authenticate_client(application.client_id, app_secret, kind="developer")
    client.revoked_at = utcnow()
    db.session.commit()
    assert tokens.authenticate_client(client.client_id, secret) is None


def test_an_introspection_client_belongs_to_a_definition(app, monkeypatch, db):
    client, _ = tokens.create_client("Fournisseur")
    assert reload(client).definition_id == "api_particulier"  # the catalogue's only one
    application, _ = tokens.create_client("Connecteur", kind="developer")
    assert application.definition_id is None
    with pytest.raises(tokens.ClientError) as unknown:
        tokens.create_client("Fournisseur", definition_id="api_inconnue")
    assert (
        unknown.value.message
        == f"«{NBSP}api_inconnue{NBSP}» n’est pas un type d’habilitation du catalogue."
    )
    other = add_definition(app, monkeypatch)
    with pytest.raises(tokens.ClientError) as ambiguous:
        tokens.create_client("Fournisseur")
    assert "plusieurs types d’habilitation" in ambiguous.value.message
    assert tokens.create_client("API Entreprise", definition_id=other)[0].definition_id == other
    assert [c.name for c in tokens.introspection_clients()] == ["API Entreprise", "Fournisseur"]


# ---------------------------------------------------------------- expiry reminders


def reminder_jobs(db) -> list[OutboxJob]:
    jobs = db.session.scalars(select(OutboxJob).order_by(OutboxJob.id))
    return [job for job in jobs if job.payload.get("key") == "token_expiry"]


@pytest.mark.parametrize(
    ("days_left", "threshold"),
    [(91, None), (90, 90), (61, 90), (60, 60), (45, 60), (10, 14), (7, 7), (0.5, 7), (0, 0)],
)
def test_the_reminder_due_is_the_nearest_threshold_reached(authorization, days_left, threshold):
    token = authorization.tokens[0]
    now = token.expires_at - timedelta(days=days_left)
    expected = [] if threshold is None else [(token, threshold)]
    assert tokens.due_reminders(now) == expected


def test_no_reminder_a_day_after_expiry_nor_for_replaced_revoked_or_obsolete_tokens(
    authorization, instructor, db
):
    token = authorization.tokens[0]
    assert tokens.due_reminders(token.expires_at + DAY) == []
    assert tokens.due_reminders(token.expires_at + DAY - SECOND) == [(token, 0)]
    new = tokens.rotate(authorization, authorization.applicant)
    assert tokens.due_reminders(new.expires_at - DAY) == [(new, 7)]  # not the replaced one
    authorization.state = "obsolete"
    db.session.commit()
    assert tokens.due_reminders(new.expires_at - DAY) == []
    authorization.state = "active"
    new.revoked_at = utcnow()
    db.session.commit()
    assert tokens.due_reminders(new.expires_at - DAY) == []


def test_reminders_are_queued_once_per_token_and_threshold(authorization, db):
    token = authorization.tokens[0]
    request = authorization.request
    at_89 = token.expires_at - timedelta(days=89)
    assert tokens.send_reminders(now=at_89) == 1
    assert tokens.send_reminders(now=at_89) == 0  # run it daily, or twice: once
    assert tokens.send_reminders(now=at_89 + DAY) == 0
    assert tokens.due_reminders(at_89) == []
    # Days without a run: only the nearest threshold is sent, once.
    at_10 = token.expires_at - timedelta(days=10)
    assert tokens.send_reminders(now=at_10) == 1
    assert tokens.send_reminders(now=at_10) == 0
    reminders = db.session.scalars(select(TokenReminder).order_by(TokenReminder.id)).all()
    assert [(r.token_id, r.days_before) for r in reminders] == [(token.id, 90), (token.id, 14)]
    jobs = reminder_jobs(db)
    assert len(jobs) == 2
    assert sorted(jobs[0].payload["to"]) == sorted(
        {request.applicant.email, authorization.data["contact_technique_email"]}
    )
    assert f"/habilitations/{authorization.id}" in jobs[0].payload["text"]


def test_a_prolonged_token_is_reminded_again_before_its_new_expiry(authorization):
    token = authorization.tokens[0]
    assert tokens.send_reminders(now=token.expires_at - timedelta(days=89)) == 1  # 90 days
    at_20 = token.expires_at - timedelta(days=20)
    assert tokens.send_reminders(now=at_20) == 1  # 30 days
    tokens.prolong(authorization, now=at_20)
    assert tokens.send_reminders(now=reload(token).expires_at - timedelta(days=89)) == 1


def test_a_revoked_token_says_so_when_revealed(authorization):
    token = authorization.tokens[0]
    tokens.revoke_tokens(authorization)
    with pytest.raises(tokens.TokenError, match=r"Ce jeton est révoqué\."):
        tokens.reveal(token, authorization.applicant)


@pytest.mark.parametrize(
    ("days", "label"),
    [(548, "18 mois"), (365, "12 mois"), (90, "3 mois"), (45, "45 jours")],
)
def test_the_lifetime_is_told_in_months_or_days(app, monkeypatch, days, label):
    monkeypatch.setitem(app.config, "TOKEN_LIFETIME_DAYS", days)
    with app.app_context():
        assert tokens.lifetime_label() == label
