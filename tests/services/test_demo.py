from sqlalchemy import func, select

from datapass.models import AuthorizationRequest, Membership, Organization, User
from datapass.services.demo import seed_demo_data


def count(model):
    from datapass.extensions import db

    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_is_idempotent(db):
    first = seed_demo_data()
    assert first == {"organizations": 3, "users": 5, "requests": 1}
    again = seed_demo_data()
    assert again == {"organizations": 0, "users": 0, "requests": 0}
    assert (count(Organization), count(User), count(Membership)) == (3, 5, 5)
    instructor = db.session.scalar(select(User).where(User.sub == "demo-instructeur"))
    assert instructor.has_role("api_particulier", "instructor")
    agent = db.session.scalar(select(User).where(User.sub == "demo-agent-ccas"))
    assert agent.current_organization.name == "CCAS de Villedemo"
    assert agent.memberships[0].verified
    [request] = db.session.scalars(select(AuthorizationRequest)).all()
    assert request.state == "submitted" and request.applicant_id == agent.id


def test_demo_editor_is_an_editor_and_the_provider_a_developer(db):
    seed_demo_data()
    editor = db.session.scalar(select(User).where(User.sub == "demo-editeur"))
    assert editor.roles == {"editor:arche_mc2"}
    assert editor.editor_ids == {"arche_mc2"}
    assert not editor.has_role("api_particulier", "reporter")
    provider = db.session.scalar(select(User).where(User.sub == "demo-fournisseur"))
    assert provider.roles == {"api_particulier:developer"}
    assert provider.current_organization.siret == "13002526500013"


def test_seed_takes_back_the_editor_role_of_an_older_seed(db):
    from datapass.models import UserRole

    seed_demo_data()
    editor = db.session.scalar(select(User).where(User.sub == "demo-editeur"))
    editor.role_grants.append(UserRole(role="api_particulier:developer"))
    db.session.commit()
    seed_demo_data()
    db.session.expire_all()
    assert editor.roles == {"editor:arche_mc2"}
