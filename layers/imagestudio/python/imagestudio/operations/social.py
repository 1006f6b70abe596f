"""Social Optimizer: one image to every platform's format at its exact size, subject kept in frame,
within each platform's file limit; outputs land in the library (parent: the input asset).

Exports run on our own compute (no AI provider), so they cost no credits.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Literal

from pydantic import AliasChoices, Field, field_validator

from imagestudio.catalog import get_catalog
from imagestudio.errors import InvalidInput
from imagestudio.ids import new_id
from imagestudio.imaging.social import Prepared, Target, export, largest_size, prepare
from imagestudio.models.records import Asset
from imagestudio.models.requests import RequestModel
from imagestudio.operations.asset_files import store_asset_files
from imagestudio.operations.core import Outcome, UnitResult
from imagestudio.operations.inline_answer import ensure_files_fit
from imagestudio.operations.inputs import resolve_input_image
from imagestudio.operations.registry import FREE, InputFacts, OperationSpec, Quote, register
from imagestudio.operations.tagging import tagged
from imagestudio.ports import Ports
from imagestudio.store.blobs import asset_key, owner_segment

EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


class FocalPoint(RequestModel):
    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)


class SocialRecipe(RequestModel):
    """What to export: also the recipe an upload can carry to export itself when it lands."""

    platforms: list[str] = Field(min_length=1, max_length=10)
    format_names: dict[str, str] = Field(default_factory=dict, description="platform -> format name")
    all_formats: bool = False
    show_safe_zones: bool = False
    crop_mode: Literal["smart", "center", "fit"] = "smart"
    focal_point: FocalPoint | None = Field(
        None,
        description="smart mode: where the subject is (0..1 of the width and height); each crop puts it "
        "in the middle of the format's safe zone (the part no platform UI covers), as far as the picture "
        "allows.",
    )
    fill: str = Field("#ffffff", description="fit mode: a colour like #ffffff, or 'blur' (the image itself)")
    output_format: Literal["jpg", "jpeg", "png", "webp"] = "jpg"
    quality: int = Field(85, ge=30, le=100)
    bundle: bool = False

    @field_validator("fill")
    @classmethod
    def _fill(cls, value: str) -> str:
        v = value.strip().lower()
        if v == "blur" or (
            v.startswith("#") and len(v) in (4, 7) and all(c in "0123456789abcdef" for c in v[1:])
        ):
            return v
        raise ValueError("fill is 'blur' or a colour like #ffffff")


class SocialRequest(SocialRecipe):
    image: str | None = Field(
        None,
        validation_alias=AliasChoices("image", "image_base64"),
        description="Inline image (base64 or data URL; 'image_base64' is accepted too).",
    )
    response_format: Literal["url", "original"] = Field(
        "url",
        description="url: our answer, download URLs. original: the original Image Studio's, each image "
        "inline as a data URL (refused with 413 before any work when it could not fit in 6 MB).",
    )
    asset_id: str | None = None
    upload_id: str | None = None


@dataclass
class ExportedOutput:
    platform: str
    format_name: str
    asset: Asset
    safe_zone: tuple[int, int, int, int]
    crop: tuple[int, int, int, int] | None
    actions: list[str]
    overlay_key: str | None


PixelBox = tuple[int, int, int, int]  # left, top, right, bottom in the source's pixels


@dataclass(frozen=True)
class CropGuide:
    """What the crops followed, so a user can see it and correct it with a focal point."""

    followed: Literal["faces", "subject", "no subject", "focal point", "centre", "fit"]
    source_size: tuple[int, int]
    box: PixelBox | None = None  # the subject (faces: the people)
    core: PixelBox | None = None  # the part kept when a format cannot hold the whole subject
    faces: int = 0

    def note(self) -> str | None:
        fix = "to choose, give a focal point (in the Studio: click the photo) and export again."
        if self.followed == "faces":
            return f"Smart crop followed {self.faces} face{'s' if self.faces != 1 else ''}."
        if self.followed == "subject":
            return f"Smart crop followed the subject it found (no face); if a format misses it, {fix}"
        if self.followed == "no subject":
            return f"Smart crop found no clear subject, so the crops are centred; {fix}"
        return None


def crop_guide(prepared: Prepared, recipe: SocialRecipe) -> CropGuide:
    size = prepared.source_size
    if recipe.crop_mode != "smart":
        return CropGuide(followed="centre" if recipe.crop_mode == "center" else "fit", source_size=size)
    if recipe.focal_point is not None:
        return CropGuide(followed="focal point", source_size=size)
    subject = prepared.subject()
    if subject is None:
        return CropGuide(followed="no subject", source_size=size)
    core = subject.core_pixels(*size)
    return CropGuide(
        followed="faces" if subject.faces else "subject",
        source_size=size,
        box=_rounded(subject.pixels(*size)),
        core=_rounded(core) if core is not None else None,
        faces=subject.faces,
    )


def _rounded(box: tuple[float, float, float, float]) -> PixelBox:
    left, top, right, bottom = box
    return round(left), round(top), round(right), round(bottom)


@dataclass
class SocialExport:
    export_id: str
    outputs: list[ExportedOutput]
    bundle_key: str | None = None
    notes: list[str] = field(default_factory=list)
    guide: CropGuide | None = None

    def outcome(self) -> Outcome:
        """As every operation answers: no job (our own compute, free), one unit per format."""
        units = [UnitResult(index=i, assets=[o.asset]) for i, o in enumerate(self.outputs)]
        details = {"export_id": self.export_id, "bundle_key": self.bundle_key}
        return Outcome(
            job=None, units=units, estimated=FREE.price, charged=0, notes=self.notes, details=details
        )


def targets_for(recipe: SocialRecipe) -> list[Target]:
    catalog = get_catalog()
    targets: list[Target] = []
    unknown = set(recipe.format_names) - set(recipe.platforms)
    if unknown:
        raise InvalidInput(
            f"format_names names platforms not in 'platforms': {', '.join(sorted(unknown))}.",
            details={"field": "format_names"},
        )
    for name in dict.fromkeys(recipe.platforms):
        platform = catalog.platform(name, status=422)
        formats = list(platform.formats)
        if not formats:
            raise InvalidInput(f"{platform.display_name} has no formats.", details={"field": "platforms"})
        if recipe.all_formats:
            chosen = formats
        elif name in recipe.format_names:
            wanted = recipe.format_names[name]
            chosen = [f for f in formats if f.name.lower() == wanted.lower()]
            if not chosen:
                raise InvalidInput(
                    f"{platform.display_name} has no format '{wanted}'. "
                    f"Its formats: {', '.join(f.name for f in formats)}.",
                    details={
                        "field": "format_names",
                        "platform": name,
                        "valid_choices": [f.name for f in formats],
                    },
                )
        else:
            chosen = formats[:1]
        targets.extend(Target.from_catalog(platform, fmt) for fmt in chosen)
    return targets


def optimize(ports: Ports, owner: str, request: SocialRequest) -> SocialExport:
    targets = targets_for(request)
    source = resolve_input_image(
        ports, owner, image=request.image, asset_id=request.asset_id, upload_id=request.upload_id
    )
    return export_image(
        ports,
        owner,
        source.image.data,
        request,
        targets,
        parent=source.asset,
        inline=request.response_format != "url",
    )


def export_image(
    ports: Ports,
    owner: str,
    data: bytes,
    recipe: SocialRecipe,
    targets: list[Target],
    parent: Asset | None,
    *,
    inline: bool = False,
) -> SocialExport:
    """Render every target, then store each as an asset. `inline`: the answer carries the files as
    base64, so they are checked to fit in a Lambda answer (413) before anything is stored."""
    prepared = prepare(
        data,
        largest_size(targets),
        face_detector=ports.face_detector,
        find_subject=recipe.crop_mode == "smart" and recipe.focal_point is None,
    )
    fmt = "jpeg" if recipe.output_format in ("jpg", "jpeg") else recipe.output_format
    rendered = export(
        prepared,
        targets,
        mode=recipe.crop_mode,
        focal=(recipe.focal_point.x, recipe.focal_point.y) if recipe.focal_point else None,
        fill=recipe.fill,
        output_format=fmt,
        quality=recipe.quality,
        show_safe_zones=recipe.show_safe_zones,
    )
    if inline:
        ensure_files_fit([len(item.data) for item in rendered], what=f"the {len(rendered)} exported image(s)")
    export_id = new_id()
    outputs: list[ExportedOutput] = []
    for item in rendered:
        asset_id = new_id()
        files = store_asset_files(
            ports,
            owner,
            asset_id,
            data=item.data,
            mime=item.mime,
            extension=EXT.get(item.mime, "bin"),
            pixels=item.data,
        )
        overlay_key = None
        if item.overlay is not None:
            overlay_key = asset_key(owner, asset_id, "safe-zones.png")
            ports.blobs.put(overlay_key, item.overlay, "image/png")
        asset = ports.assets.create(
            tagged(
                Asset(
                    id=asset_id,
                    owner=owner,
                    key=files.key,
                    thumbnail_key=files.thumbnail_key,
                    mime=item.mime,
                    bytes=item.bytes,
                    width=item.width,
                    height=item.height,
                    operation="social",
                    source="social",
                    parent_id=parent.id if parent else None,
                    tags=[item.platform, "social"],
                    title=f"{item.platform} {item.format_name}",
                    metadata={
                        "platform": item.platform,
                        "format": item.format_name,
                        "export_id": export_id,
                        "safe_zone": list(item.safe_zone_px),
                        "actions": list(item.actions),
                    },
                ),
                files.thumbnail.image,
            )
        )
        outputs.append(
            ExportedOutput(
                platform=item.platform,
                format_name=item.format_name,
                asset=asset,
                safe_zone=item.safe_zone_px,
                crop=item.crop_box,
                actions=list(item.actions),
                overlay_key=overlay_key,
            )
        )
    guide = crop_guide(prepared, recipe)
    note = guide.note()
    result = SocialExport(export_id=export_id, outputs=outputs, notes=[note] if note else [], guide=guide)
    if recipe.bundle:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for out, item in zip(outputs, rendered, strict=True):
                name = (
                    f"{out.platform}/{out.format_name.replace(' ', '_').replace('/', '-')}.{EXT[item.mime]}"
                )
                archive.writestr(name, item.data)
        result.bundle_key = f"exports/{owner_segment(owner)}/{export_id}.zip"
        ports.blobs.put(result.bundle_key, buffer.getvalue(), "application/zip")
    return result


def price(request: SocialRequest, facts: InputFacts) -> Quote:
    return FREE


SPEC = register(
    OperationSpec(
        name="social",
        request=SocialRequest,
        run=lambda ports, owner, request: optimize(ports, owner, request).outcome(),
        price=price,
        usage=None,
    )
)
