"""Fill a throwaway database with N requests for `make bench`, fast (bulk inserts).

    python bench/seed.py N OUT_DIR     (DATABASE_URL chooses the database)

The schema comes from the migrations; the demo data (instructor, introspection client, one
submitted request whose answers every seeded request copies) from `flask dev seed`'s
service; then organisations, applicants, requests, their timeline, habilitations and tokens
go in by batches of Core inserts. Writes OUT_DIR/bench.json: the signed session cookie of the
demo instructor, the ids and values each measured path needs.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import func, insert, select, text

from datapass import create_app, workflow
from datapass.crypto import digest
from datapass.demo import DEMO_INTROSPECTION_CLIENT, DEMO_USERS
from datapass.extensions import db
from datapass.models import (
    ApiToken,
    Authorization,
    AuthorizationRequest,
    AuthorizationRequestEvent,
    Membership,
    Organization,
    User,
    UserSession,
)
from datapass.models.base import utcnow
from datapass.models.user_session import hash_session_key
from datapass.services.demo import seed_demo_data

BATCH = 5000
RARE_NAME = "Zéphyrine Quillebeuf"
RARE_QUERY = "quillebeuf"
SESSION_KEY_VALUE = "bench-session-key"
STATES = [
    workflow.DRAFT,
    workflow.SUBMITTED,
    workflow.CHANGES_REQUESTED,
    workflow.VALIDATED,
    workflow.REFUSED,
    workflow.ARCHIVED,
]


def _batches(rows, size=BATCH):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(table, rows) -> None:
    for batch in _batches(rows):
        db.session.execute(insert(table), batch)


def _answers(template: dict, i: int, rnd: random.Random) -> dict:
    data = dict(template)
    data["intitule"] = f"Aides sociales facultatives {i}"
    for key in template:
        if key.endswith("_family_name") or key.endswith("_nom"):
            data[key] = f"Martin{i}"
        elif key.endswith("_email"):
            data[key] = f"contact{i}@commune{i}.fr"
    if "description" in data:
        data["description"] = f"Instruction des aides facultatives du CCAS n° {i} : " + " ".join(
            rnd.choice(WORDS) for _ in range(120)
        )
    return data


WORDS = [
    "aide",
    "sociale",
    "facultative",
    "quotient",
    "familial",
    "allocataire",
    "commune",
    "centre",
    "communal",
    "action",
    "instruction",
    "dossier",
    "tarification",
    "cantine",
    "crèche",
    "logement",
    "énergie",
    "secours",
    "urgence",
    "transport",
    "scolaire",
    "périscolaire",
    "bénéficiaire",
    "justificatif",
    "ressources",
]


def seed(n: int, out_dir: str) -> dict:
    rnd = random.Random(1)  # noqa: S311 (test data)
    upgrade()
    seed_demo_data()
    template = db.session.scalar(select(AuthorizationRequest).limit(1))
    instructor = db.session.scalar(select(User).where(User.sub == DEMO_USERS[1]["sub"]))
    base = {
        "definition_id": template.definition_id,
        "form_uid": template.form_uid,
        "catalog_version": template.catalog_version,
    }
    template_data = dict(template.data)
    first_org = (db.session.scalar(select(func.max(Organization.id))) or 0) + 1
    first_user = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    first_request = (db.session.scalar(select(func.max(AuthorizationRequest.id))) or 0) + 1
    orgs = max(1, n // 10)
    now = utcnow()
    _insert(
        Organization.__table__,
        (
            {
                "id": first_org + i,
                "siret": f"{21000000000000 + i:014d}",
                "name": f"CCAS de la commune {i}",
                "commune": f"Commune {i}",
                "created_at": now,
                "last_refreshed_at": now,
            }
            for i in range(orgs)
        ),
    )
    _insert(
        User.__table__,
        (
            {
                "id": first_user + i,
                "email": f"agent{i}@commune{i}.fr",
                "given_name": "Agent",
                "family_name": f"Numéro {i}",
                "current_organization_id": first_org + i,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(orgs)
        ),
    )
    _insert(
        Membership.__table__,
        (
            {
                "user_id": first_user + i,
                "organization_id": first_org + i,
                "verified": True,
                "verification_reason": "identity_provider",
                "verified_at": now,
                "created_at": now,
            }
            for i in range(orgs)
        ),
    )
    rare = {first_request + k * (n // 3) for k in range(3)}
    requests, events, authorizations = [], [], []
    for i in range(n):
        request_id = first_request + i
        state = rnd.choice(STATES)
        submitted = now - timedelta(seconds=rnd.random() * 3e7)
        data = _answers(template_data, i, rnd)
        if request_id in rare:
            data["contact_metier_family_name"] = RARE_NAME
        requests.append(
            {
                "id": request_id,
                "public_id": str(uuid.uuid4()),
                **base,
                "state": state,
                "data": data,
                "intitule": data["intitule"],
                "organization_id": first_org + i % orgs,
                "applicant_id": first_user + i % orgs,
                "terms_of_service_accepted": True,
                "data_protection_officer_informed": True,
                "created_at": submitted,
                "updated_at": submitted,
                "last_submitted_at": None if state == workflow.DRAFT else submitted,
                "decision_deadline": submitted + timedelta(days=60)
                if state == workflow.SUBMITTED
                else None,
                "version": 1,
            }
        )
        if state != workflow.DRAFT:
            events.append(
                {
                    "authorization_request_id": request_id,
                    "name": "submit",
                    "user_id": first_user + i % orgs,
                    "payload": {},
                    "created_at": submitted,
                }
            )
        if state == workflow.VALIDATED:
            authorizations.append(
                {
                    "authorization_request_id": request_id,
                    **{k: base[k] for k in ("definition_id", "form_uid")},
                    "organization_id": first_org + i % orgs,
                    "applicant_id": first_user + i % orgs,
                    "state": "active",
                    "data": data,
                    "created_at": submitted,
                }
            )
        if len(requests) == BATCH:
            db.session.execute(insert(AuthorizationRequest.__table__), requests)
            requests = []
    if requests:
        db.session.execute(insert(AuthorizationRequest.__table__), requests)
    _insert(AuthorizationRequestEvent.__table__, events)
    _insert(Authorization.__table__, authorizations)
    authorization_ids = db.session.scalars(select(Authorization.id)).all()
    _insert(
        ApiToken.__table__,
        (
            {
                "jti": str(uuid.uuid4()),
                "authorization_id": authorization_id,
                "token_hash": digest(f"dpt_bench{k}"),
                "last_chars": f"{k:08d}"[-8:],
                "scopes": ["cnaf_quotient_familial", "cnaf_allocataires"],
                "issued_at": now,
                "expires_at": now + timedelta(days=365),
            }
            for k, authorization_id in enumerate(authorization_ids)
        ),
    )
    db.session.execute(
        insert(UserSession.__table__),
        {
            "key_hash": hash_session_key(SESSION_KEY_VALUE),
            "user_id": instructor.id,
            "created_at": now,
            "expires_at": now + timedelta(days=30),
        },
    )
    _after_bulk_load()
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    middle = db.session.execute(
        select(AuthorizationRequest.id, Organization.siret)
        .join(Organization, Organization.id == AuthorizationRequest.organization_id)
        .where(AuthorizationRequest.state == workflow.SUBMITTED)
        .order_by(AuthorizationRequest.id)
        .offset(n // 20)
        .limit(1)
    ).one()
    return {
        "requests": n,
        "request_id": middle.id,
        "siret": middle.siret,
        "rare_query": RARE_QUERY,
        "token": f"dpt_bench{len(authorization_ids) // 2}",
        "client_id": DEMO_INTROSPECTION_CLIENT["client_id"],
        "client_secret": DEMO_INTROSPECTION_CLIENT["secret"],
        "cookie": _session_cookie(instructor),
    }


def _after_bulk_load() -> None:
    """What bulk inserts skip: the free-text search index, when the code has one."""
    try:
        from datapass.services import search_index
    except ImportError:
        return
    search_index.rebuild()


def _session_cookie(instructor: User) -> str:
    """The signed Flask session cookie of a signed-in instructor (as after the sign-in)."""
    from flask import current_app

    from datapass.views.auth import SESSION_KEY

    serializer = current_app.session_interface.get_signing_serializer(current_app)
    value = serializer.dumps({SESSION_KEY: SESSION_KEY_VALUE, "_user_id": str(instructor.id)})
    return f"{current_app.config['SESSION_COOKIE_NAME']}={value}"


def main() -> None:
    n, out_dir = int(sys.argv[1]), sys.argv[2]
    app = create_app(environ=os.environ)
    started = time.monotonic()
    with app.app_context():
        facts = seed(n, out_dir)
    with open(os.path.join(out_dir, "bench.json"), "w") as out:
        json.dump(facts, out)
    print(f"seeded {n} requests in {time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
