"""Fixtures of the service tests (a module may define its own of the same name)."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory


@pytest.fixture
def request_context(app, db):
    """Services that build URLs or emails need a request context."""
    with app.test_request_context():
        yield


@pytest.fixture
def instructor(db):
    return UserFactory(roles=["api_particulier:instructor"])
