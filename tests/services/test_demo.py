from sqlalchemy import func, select

from datapass.models import AuthorizationRequest, Membership, Organization, User
from datapass.services.demo import seed_demo_data


def count(model):
    from datapass.extensions import db

    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_is_idempotent(db):
    first = seed_demo_data()
    assert first == {"organizations": 3, "users": 4, "requests": 1}
    again = seed_demo_data()
    assert again == {"organizations": 0, "users": 0, "requests": 0}
    assert (count(Organization), count(User), count(Membership)) == (3, 4, 4)
    instructor = db.session.scalar(select(User).where(User.sub == "demo-instructeur"))
    assert instructor.has_role("api_particulier", "instructor")
    agent = db.session.scalar(select(User).where(User.sub == "demo-agent-ccas"))
    assert agent.current_organization.name == "CCAS de Villedemo"
    assert agent.memberships[0].verified
    [request] = db.session.scalars(select(AuthorizationRequest)).all()
    assert request.state == "submitted" and request.applicant_id == agent.id
