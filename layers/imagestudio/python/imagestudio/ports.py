"""The ports an operation works through, built once per warm container from the function's settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

from imagestudio.config import Settings
from imagestudio.credits.ledger import Ledger
from imagestudio.store.assets import AssetRepository, UploadRepository
from imagestudio.store.batches import BatchRepository
from imagestudio.store.blobs import BlobStore
from imagestudio.store.collections import CollectionRepository
from imagestudio.store.jobs import JobRepository
from imagestudio.store.personas import PersonaRepository
from imagestudio.store.shares import ShareRepository
from imagestudio.store.workflows import Workflows


@dataclass
class Ports:
    settings: Settings

    @cached_property
    def jobs(self) -> JobRepository:
        return JobRepository(self.settings.jobs_table)

    @cached_property
    def assets(self) -> AssetRepository:
        return AssetRepository(self.settings.assets_table)

    @cached_property
    def uploads(self) -> UploadRepository:
        return UploadRepository(self.settings.assets_table)

    @cached_property
    def personas(self) -> PersonaRepository:
        return PersonaRepository(self.settings.assets_table)

    @cached_property
    def batches(self) -> BatchRepository:
        return BatchRepository(self.settings.jobs_table)

    @cached_property
    def collections(self) -> CollectionRepository:
        return CollectionRepository(self.settings.assets_table)

    @cached_property
    def shares(self) -> ShareRepository:
        return ShareRepository(self.settings.assets_table)

    @cached_property
    def workflows(self) -> Workflows:
        return Workflows()

    @cached_property
    def blobs(self) -> BlobStore:
        return BlobStore(self.settings.media_bucket)

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(self.settings.credits_table)


@cache
def _ports(settings: Settings) -> Ports:
    return Ports(settings)


def current_ports() -> Ports:
    """Ports for the running function's settings (one set per warm container)."""
    return _ports(Settings.from_env())
