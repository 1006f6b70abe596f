"""The ports an operation works through, built once per warm container from the function's settings.

Each port's module is imported when the port is first used, not at cold start: a function imports
only the repositories its requests touch.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING

from imagestudio.config import Settings

if TYPE_CHECKING:
    from imagestudio.credits.ledger import Ledger
    from imagestudio.imaging.faces import FaceDetector
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
        from imagestudio.store.jobs import JobRepository

        return JobRepository(self.settings.jobs_table)

    @cached_property
    def assets(self) -> AssetRepository:
        from imagestudio.store.assets import AssetRepository

        return AssetRepository(self.settings.assets_table)

    @cached_property
    def uploads(self) -> UploadRepository:
        from imagestudio.store.assets import UploadRepository

        return UploadRepository(self.settings.assets_table)

    @cached_property
    def personas(self) -> PersonaRepository:
        from imagestudio.store.personas import PersonaRepository

        return PersonaRepository(self.settings.assets_table)

    @cached_property
    def batches(self) -> BatchRepository:
        from imagestudio.store.batches import BatchRepository

        return BatchRepository(self.settings.jobs_table)

    @cached_property
    def collections(self) -> CollectionRepository:
        from imagestudio.store.collections import CollectionRepository

        return CollectionRepository(self.settings.assets_table)

    @cached_property
    def shares(self) -> ShareRepository:
        from imagestudio.store.shares import ShareRepository

        return ShareRepository(self.settings.assets_table)

    @cached_property
    def workflows(self) -> Workflows:
        from imagestudio.store.workflows import Workflows

        return Workflows()

    @cached_property
    def blobs(self) -> BlobStore:
        from imagestudio.store.blobs import BlobStore

        return BlobStore(self.settings.media_bucket)

    @cached_property
    def face_detector(self) -> FaceDetector | None:
        """Rekognition DetectFaces with live providers (deployed), else OpenCV's cascade where it is
        installed (offline), else None: the smart crop then finds the subject by saliency alone."""
        from imagestudio.imaging import faces

        if self.settings.provider_mode == "live":
            import boto3

            from imagestudio import tracing

            return faces.RekognitionDetector(tracing.instrument(boto3.client("rekognition")))
        return faces.default_detector()

    @cached_property
    def ledger(self) -> Ledger:
        from imagestudio.credits.ledger import Ledger

        return Ledger(self.settings.credits_table)


@cache
def _ports(settings: Settings) -> Ports:
    return Ports(settings)


def current_ports() -> Ports:
    """Ports for the running function's settings (one set per warm container)."""
    return _ports(Settings.from_env())
