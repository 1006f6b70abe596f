"""Fixtures for the integration tests that several modules ask for by name."""

from __future__ import annotations

import pytest


@pytest.fixture
def pro_users(domain) -> None:
    """alice, bob and user-alice on the pro plan (the studios ask for it with `usefixtures`)."""
    for user in ("alice", "bob", "user-alice"):
        domain.ledger.account(user)
        domain.ledger.set_plan(user, "pro")
