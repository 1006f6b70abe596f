"""The one finisher: a provider's outputs become stored files and library assets, and the job is
settled, whichever path the job took (an inline call, or a provider job that the state machine
polled or a webhook resumed).

What finishing needs is recorded on the job when it opens (`Finish`, kept in `job.inputs["finish"]`),
so a poll minutes later, in another Lambda, stores the output exactly as the request asked:
images are made exact-size and encoded in the asked format; video, GLB and audio are kept as the
provider made them, with a poster frame for the thumbnail.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from PIL import Image

from imagestudio.errors import Conflict, NotFound, ProviderError
from imagestudio.ids import new_id
from imagestudio.imaging.output import EXT, encode, exact_size, open_image
from imagestudio.models.records import Asset, AssetType, Job
from imagestudio.operations.asset_files import store_asset_files
from imagestudio.operations.jobs import error_info, fail_job, succeed_job
from imagestudio.operations.tagging import tagged
from imagestudio.ports import Ports
from imagestudio.providers import http as provider_http
from imagestudio.providers.base import Output, Succeeded

MEDIA_EXT = {
    "image/webp": "webp",
    "image/gif": "gif",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/avif": "avif",
    "image/tiff": "tif",
    "image/bmp": "bmp",
    "image/x-icon": "ico",
    "video/mp4": "mp4",
    "model/gltf-binary": "glb",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
}


@dataclass(frozen=True)
class Finish:
    """How a job's outputs are stored: recorded on the job at open, read back when it finishes."""

    operation: str
    source: str  # generated | edited | upscaled | controlled | transformed | ...
    asset_type: AssetType = "image"
    output_format: str | None = "png"  # images: re-encoded exact-size in this format; None keeps bytes
    prompt: str | None = None
    parent_id: str | None = None
    width: int | None = None
    height: int | None = None
    poster_key: str | None = None  # media without pixels of its own (GLB): the input image's key
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_inputs(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, job: Job) -> Finish:
        recorded = job.inputs.get("finish")
        if not isinstance(recorded, dict):
            raise ProviderError(f"Job {job.id} has no record of how to store its outputs.")
        known = {k: v for k, v in recorded.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def output_bytes(provider_name: str, output: Output) -> bytes:
    if output.data is not None:
        return output.data
    if output.url:
        data, _ = provider_http.download(provider_name, output.url)
        return data
    raise ProviderError(f"{provider_name} returned an output without data or URL.")


def store_output(
    ports: Ports,
    owner: str,
    job: Job,
    output: Output,
    finish: Finish,
    *,
    provider: str,
    model: str | None,
    cost: int,
    index: int = 0,
) -> Asset:
    """Store one output and record it as an asset of the job (copied from the provider at once:
    provider URLs expire)."""
    data = output_bytes(provider, output)
    asset_id = new_id()
    width: int | None
    height: int | None
    duration: float | None
    if finish.output_format is not None:
        pixels: Image.Image = exact_size(open_image(data), finish.width, finish.height)
        data, mime = encode(pixels, finish.output_format)
        extension = EXT[finish.output_format]
        width, height, duration = pixels.width, pixels.height, None
    else:
        mime = output.mime
        extension = MEDIA_EXT.get(mime, "bin")
        pixels = _poster(ports, data, mime, finish)
        width, height, duration = output.width, output.height, output.duration
        if mime.startswith("image/"):
            width, height, duration = _animation(data, duration)
    files = store_asset_files(
        ports, owner, asset_id, data=data, mime=mime, extension=extension, pixels=pixels
    )
    extra = {k: v for k, v in output.extra.items() if isinstance(v, (str, int, float, bool))}
    asset = Asset(
        id=asset_id,
        owner=owner,
        type=finish.asset_type,
        key=files.key,
        thumbnail_key=files.thumbnail_key,
        mime=mime,
        bytes=len(data),
        width=width,
        height=height,
        duration=duration,
        prompt=finish.prompt,
        provider=provider,
        model=model,
        operation=finish.operation,
        job_id=job.id,
        cost_credits=cost,
        source=finish.source,
        parent_id=finish.parent_id,
        metadata={**extra, **finish.metadata, "variation": index},
    )
    return ports.assets.create(tagged(asset, files.thumbnail.image))


def finish_job(ports: Ports, owner: str, job: Job, result: Succeeded, **fields: Any) -> Job:
    """A provider job that succeeded: store every output, charge the reservation and close the job;
    if nothing could be stored the job fails and every credit goes back. Settled exactly once: a job
    that ended meanwhile (canceled, expired) is left as it is."""
    try:
        finish = Finish.of(job)
        assets = [
            store_output(
                ports,
                owner,
                job,
                output,
                finish,
                provider=job.provider or "local",
                model=job.model,
                cost=job.credits_reserved,
                index=i,
            )
            for i, output in enumerate(result.outputs)
        ]
        if not assets:
            raise ProviderError("The provider returned no output.")
    except Exception as exc:
        info = error_info(exc)
        settle = partial(fail_job, ports, owner, job.id, code=info.code, message=info.message)
    else:
        outputs = [a.id for a in assets]
        settle = partial(
            succeed_job, ports, owner, job.id, actual_credits=job.credits_reserved, outputs=outputs, **fields
        )
    try:
        return settle()
    except (Conflict, NotFound):
        return ports.jobs.get(owner, job.id)  # ended meanwhile: whoever ended it settled it


def _animation(data: bytes, duration: float | None) -> tuple[int, int, float | None]:
    with Image.open(io.BytesIO(data)) as im:
        frames = int(getattr(im, "n_frames", 1))
        if duration is None and frames > 1:
            total = 0
            for i in range(frames):
                im.seek(i)
                total += int(im.info.get("duration", 0))
            duration = total / 1000
        return im.width, im.height, duration


def _poster(ports: Ports, data: bytes, mime: str, finish: Finish) -> Image.Image:
    """A poster frame: the first frame of an animation, else the input image (a GLB has no pixels)."""
    if mime.startswith("image/"):
        return open_image(data).convert("RGBA")
    if finish.poster_key:
        return open_image(ports.blobs.get(finish.poster_key)).convert("RGBA")
    return Image.new("RGBA", (512, 512), (40, 40, 48, 255))
