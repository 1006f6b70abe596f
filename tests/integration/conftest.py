"""Fixtures for the integration tests that several modules ask for by name."""

from __future__ import annotations

import pytest

from imagestudio.providers import registry


@pytest.fixture
def pro_users(domain) -> None:
    """alice, bob and user-alice on the pro plan (the studios ask for it with `usefixtures`)."""
    for user in ("alice", "bob", "user-alice"):
        domain.ledger.account(user)
        domain.ledger.set_plan(user, "pro")


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch):
    """LOCAL_PROVIDER_FAULTS for the functions (each invocation layers its view over the process's)."""

    def use(spec: str) -> None:
        monkeypatch.setenv("LOCAL_PROVIDER_FAULTS", spec)
        registry.reset()

    yield use
    registry.reset()
