"""Every call the original Image Studio front end makes, recorded as data.

Source: AJaySi/ALwrity at commit ce9bf293ed1cc833016471f4bfb4d068aedfcee2,
frontend/src/hooks/useImageStudio.ts (the hook) and the components that call it under
frontend/src/components/ImageStudio/ (docs/frontend-compat.md has the line-by-line reading).

Each call has the method and path the hook builds, the body its component builds (fields the
component leaves `undefined` are absent, as JSON.stringify drops them; `null` stays), and `reads`:
the fields the hook, its TypeScript types and the components read from the answer, with their
types. `phase2` names what is still missing for calls that do not work yet; the test marks them
xfail(strict=True), so each one fails loudly the day it starts working and must be flipped here.

Path notation in `reads`: `a.b` a field, `a[]` every element of a list (which must not be empty),
`a{}` every value of an object keyed by id (which must not be empty); a trailing `?` on the field
means it may be absent or null. Types: str, int, number, bool, list, dict, true (the value true),
data_url (a `data:image/...;base64,` string the UI uses as an <img> src as is), base64 (raw base64
the UI prefixes with `data:image/png;base64,`), tier (budget | mid | premium: the model picker
groups by exactly these three and breaks on any other).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ORIGINAL_COMMIT = "ce9bf293ed1cc833016471f4bfb4d068aedfcee2"
HOOK = "frontend/src/hooks/useImageStudio.ts"
C = "frontend/src/components/ImageStudio/"

# Placeholders the test replaces with real images: a data URL (what FileReader.readAsDataURL gives the
# components) and raw base64 (what the create answer gives and CreateStudio passes to save-to-library).
IMAGE = "$image"
FACE = "$face"
RAW_IMAGE = "$raw_image"


@dataclass(frozen=True)
class HookCall:
    name: str  # the hook's function
    method: str
    path: str  # as the hook builds it, query string included
    caller: str  # the component that builds the body
    body: dict[str, Any] | None = None
    reads: tuple[str, ...] = ()
    phase2: str | None = None  # what is missing; None = works today
    notes: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # fields whose value the UI depends on


_TEMPLATE_FIELDS = (
    "id:str",
    "name:str",
    "category:str",
    "platform?:str",
    "aspect_ratio.ratio:str",
    "aspect_ratio.width:int",
    "aspect_ratio.height:int",
    "aspect_ratio.label:str",
    "description:str",
    "recommended_provider:str",
    "style_preset:str",
    "quality:str",
    "use_cases:list",
)
_RECOMMENDATION = (
    "recommended_model:str",
    "reason:str",
    "alternatives:list",
    "alternatives[].model_id:str",
    "alternatives[].name:str",
    "alternatives[].cost:number",
    "alternatives[].reason:str",
)
_STUDIO_RESULT = (
    "success:true",
    "image_base64:data_url",
    "width:int",
    "height:int",
    "metadata:dict",
)


def _each(prefix: str, fields: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{prefix}.{f}" for f in fields)


CALLS: tuple[HookCall, ...] = (
    HookCall(
        name="loadTemplates",
        method="GET",
        path="/api/image-studio/templates?",
        caller=C + "CreateStudio.tsx",
        reads=("templates:list", *_each("templates[]", _TEMPLATE_FIELDS)),
        notes="CreateStudio calls it with no filter: URLSearchParams() gives a bare '?'.",
    ),
    HookCall(
        name="searchTemplates",
        method="GET",
        path="/api/image-studio/templates/search?query=product",
        caller=HOOK,
        reads=("templates:list", *_each("templates[]", _TEMPLATE_FIELDS)),
        notes="No component calls it; the hook reads `templates`.",
    ),
    HookCall(
        name="loadProviders",
        method="GET",
        path="/api/image-studio/providers",
        caller=C + "CreateStudio.tsx",
        reads=(
            "providers:dict",
            "providers{}.name:str",
            "providers{}.models:list",
            "providers{}.models[]:str",
            "providers{}.capabilities:list",
            "providers{}.max_resolution?:list",
            "providers{}.cost_range:str",
        ),
        notes="Object.keys(providers) fills the provider menu; providers[key].name is its label and "
        "providers[key].models the model menu.",
    ),
    HookCall(
        name="generateImage",
        method="POST",
        path="/api/image-studio/create",
        caller=C + "CreateStudio.tsx",
        body={
            "prompt": "A red sneaker on a white studio backdrop",
            "template_id": None,
            "provider": "auto",
            "quality": "standard",
            "num_variations": 1,
            "enhance_prompt": True,
        },
        reads=(
            "success:true",
            "results:list",
            "results[].image_base64:base64",
            "results[].width:int",
            "results[].height:int",
            "results[].provider:str",
            "results[].model:str",
            "results[].variation:int",
            "results[].seed?:int",
            "request:dict",
            "request.provider?:str",
            "request.model?:str",
            "total_generated:int",
            "total_failed:int",
        ),
    ),
    HookCall(
        name="estimateCost",
        method="POST",
        path="/api/image-studio/estimate-cost",
        caller=C + "CreateStudio.tsx",
        body={"provider": "stability", "operation": "generate", "num_images": 1},
        reads=(
            "provider:str",
            "model?:str",
            "operation:str",
            "num_images:int",
            "cost_per_image:number",
            "total_cost:number",
            "currency:str",
            "estimated:bool",
        ),
        notes="With a template selected the body also has width and height (accepted, prices do not "
        "depend on size).",
    ),
    HookCall(
        name="getPlatformSpecs",
        method="GET",
        path="/api/image-studio/platform-specs/instagram",
        caller=HOOK,
        reads=(),
        notes="No component calls it; the hook returns the body as is.",
    ),
    HookCall(
        name="loadEditOperations",
        method="GET",
        path="/api/image-studio/edit/operations",
        caller=C + "EditStudio.tsx",
        reads=(
            "operations:dict",
            "operations{}.label:str",
            "operations{}.description:str",
            "operations{}.provider:str",
            "operations{}.async?:bool",
            "operations{}.fields:dict",
            "operations{}.fields.prompt:bool",
            "operations{}.fields.mask:bool",
            "operations{}.fields.search_prompt:bool",
            "operations{}.fields.select_prompt:bool",
            "operations{}.fields.background:bool",
            "operations{}.fields.lighting:bool",
            "operations{}.fields.expansion:bool",
        ),
        notes="Object.keys picks the first operation; fields decide which inputs show and are required.",
    ),
    HookCall(
        name="processEdit",
        method="POST",
        path="/api/image-studio/edit/process",
        caller=C + "EditStudio.tsx",
        body={
            "image_base64": IMAGE,
            "operation": "remove_background",
            "output_format": "png",
            "options": {},
        },
        reads=("operation:str", "provider:str", *_STUDIO_RESULT),
    ),
    HookCall(
        name="loadEditModels",
        method="GET",
        path="/api/image-studio/edit/models?",
        caller=C + "EditStudio.tsx",
        reads=(
            "models:list",
            "models[].id:str",
            "models[].name:str",
            "models[].description:str",
            "models[].cost:number",
            "models[].cost_8k?:number",
            "models[].tier:tier",
            "models[].max_resolution:list",
            "models[].capabilities:list",
            "models[].use_cases:list",
            "models[].features:list",
            "models[].supports_multi_image:bool",
            "models[].supports_controlnet:bool",
            "models[].languages:list",
        ),
        notes="ModelSelector shows cost.toFixed(3), max_resolution[0]x[1], features; groups by tier.",
    ),
    HookCall(
        name="getModelRecommendation",
        method="POST",
        path="/api/image-studio/edit/recommend",
        caller=C + "EditStudio.tsx",
        body={
            "operation": "general_edit",
            "image_resolution": {"width": 256, "height": 192},
            "preferences": {"prioritize_cost": True},
        },
        reads=_RECOMMENDATION,
    ),
    HookCall(
        name="loadFaceSwapModels",
        method="GET",
        path="/api/image-studio/face-swap/models?",
        caller=C + "FaceSwapStudio.tsx",
        reads=(
            "models:list",
            "models[].id:str",
            "models[].name:str",
            "models[].description:str",
            "models[].cost:number",
            "models[].tier:tier",
            "models[].capabilities:list",
            "models[].use_cases:list",
            "models[].features:list",
            "models[].max_faces:int",
        ),
    ),
    HookCall(
        name="getFaceSwapModelRecommendation",
        method="POST",
        path="/api/image-studio/face-swap/recommend",
        caller=C + "FaceSwapStudio.tsx",
        body={
            "base_image_resolution": {"width": 256, "height": 192},
            "face_image_resolution": {"width": 128, "height": 128},
            "preferences": {"prioritize_cost": True},
        },
        reads=_RECOMMENDATION,
    ),
    HookCall(
        name="processFaceSwap",
        method="POST",
        path="/api/image-studio/face-swap/process",
        caller=C + "FaceSwapStudio.tsx",
        body={"base_image_base64": IMAGE, "face_image_base64": FACE},
        reads=("provider:str", "model:str", *_STUDIO_RESULT),
        phase2=(
            "the route and its original answer exist (data URL, model, provider), but the replayed images "
            "($image, $face) are flat colour squares: the face check refuses them before any charge (422 "
            "'No face was found in the face image'); tests/integration/test_face_swap_studio.py replays the "
            "call with real faces"
        ),
        notes="`model` is the recommended model once the recommendation answered; absent before.",
    ),
    HookCall(
        name="processUpscale",
        method="POST",
        path="/api/image-studio/upscale",
        caller=C + "UpscaleStudio.tsx",
        body={"image_base64": IMAGE, "mode": "auto", "preset": "social"},
        reads=("mode:str", *_STUDIO_RESULT),
        notes="The component's default preset is 'web' (2048 px long side): a 2048x1536 PNG cannot be "
        "promised inline under Lambda's 6 MB, so that answers 413 before any charge with a detail the UI "
        "shows (pick the social preset, or use our URL answer); the user's 'social' pick is replayed here. "
        "tests/integration/test_original_answers.py checks the 'web' refusal.",
    ),
    HookCall(
        name="loadControlOperations",
        method="GET",
        path="/api/image-studio/control/operations",
        caller=C + "ControlStudio.tsx",
        reads=(
            "operations:dict",
            "operations{}.label:str",
            "operations{}.description:str",
            "operations{}.provider:str",
            "operations{}.fields:dict",
            "operations{}.fields.control_image:bool",
            "operations{}.fields.style_image:bool",
            "operations{}.fields.control_strength:bool",
            "operations{}.fields.fidelity:bool",
            "operations{}.fields.style_strength:bool",
            "operations{}.fields.aspect_ratio:bool",
        ),
    ),
    HookCall(
        name="processControl",
        method="POST",
        path="/api/image-studio/control/process",
        caller=C + "ControlStudio.tsx",
        body={
            "control_image_base64": IMAGE,
            "operation": "sketch",
            "prompt": "A watercolor lighthouse at dusk",
            "control_strength": 0.7,
            "output_format": "png",
        },
        reads=("operation:str", "provider:str", *_STUDIO_RESULT),
    ),
    HookCall(
        name="optimizeForSocial",
        method="POST",
        path="/api/image-studio/social/optimize",
        caller=C + "SocialOptimizer.tsx",
        body={
            "image_base64": IMAGE,
            "platforms": ["instagram"],
            "format_names": {"instagram": "Feed Post (Square)"},
            "show_safe_zones": False,
            "crop_mode": "smart",
            "output_format": "png",
        },
        reads=(
            "success:true",
            "results:list",
            "results[].platform:str",
            "results[].format:str",
            "results[].width:int",
            "results[].height:int",
            "results[].ratio:str",
            "results[].image_base64:data_url",
            "results[].safe_zone.top:number",
            "results[].safe_zone.bottom:number",
            "results[].safe_zone.left:number",
            "results[].safe_zone.right:number",
            "total_optimized:int",
        ),
    ),
    HookCall(
        name="getPlatformFormats",
        method="GET",
        path="/api/image-studio/social/platforms/instagram/formats",
        caller=C + "SocialOptimizer.tsx",
        reads=(
            "formats:list",
            "formats[].name:str",
            "formats[].width:int",
            "formats[].height:int",
            "formats[].ratio:str",
            "formats[].safe_zone.top:number",
            "formats[].safe_zone.bottom:number",
            "formats[].safe_zone.left:number",
            "formats[].safe_zone.right:number",
            "formats[].file_type:str",
            "formats[].max_size_mb:number",
        ),
    ),
    HookCall(
        name="loadCompressionFormats",
        method="GET",
        path="/api/image-studio/compress/formats",
        caller=C + "ImageProcessingStudio/CompressionTab.tsx",
        reads=(
            "formats:list",
            "formats[].id:str",
            "formats[].name:str",
            "formats[].extension:str",
            "formats[].description:str",
            "formats[].supports_transparency:bool",
            "formats[].quality_range:list",
            "formats[].recommended_quality:int",
            "formats[].use_cases:list",
        ),
    ),
    HookCall(
        name="loadCompressionPresets",
        method="GET",
        path="/api/image-studio/compress/presets",
        caller=C + "ImageProcessingStudio/CompressionTab.tsx",
        reads=(
            "presets:list",
            "presets[].id:str",
            "presets[].name:str",
            "presets[].description:str",
            "presets[].format:str",
            "presets[].quality:int",
            "presets[].target_size_kb?:int",
            "presets[].strip_metadata:bool",
        ),
    ),
    HookCall(
        name="estimateCompression",
        method="POST",
        path="/api/image-studio/compress/estimate",
        caller=C + "ImageProcessingStudio/CompressionTab.tsx",
        body={"image_base64": IMAGE, "format": "jpeg", "quality": 85},
        reads=(
            "original_size_kb:number",
            "estimated_size_kb:number",
            "estimated_reduction_percent:number",
            "width:int",
            "height:int",
            "format:str",
        ),
    ),
    HookCall(
        name="processCompression",
        method="POST",
        path="/api/image-studio/compress",
        caller=C + "ImageProcessingStudio/CompressionTab.tsx",
        body={
            "image_base64": IMAGE,
            "quality": 85,
            "format": "jpeg",
            "strip_metadata": True,
            "progressive": True,
            "optimize": True,
        },
        reads=(
            "success:true",
            "image_base64:data_url",
            "original_size_kb:number",
            "compressed_size_kb:number",
            "compression_ratio:number",
            "format:str",
            "width:int",
            "height:int",
            "quality_used:int",
            "metadata_stripped:bool",
        ),
    ),
    HookCall(
        name="loadSupportedFormats",
        method="GET",
        path="/api/image-studio/convert-format/supported",
        caller=C + "ImageProcessingStudio/FormatConverterTab.tsx",
        reads=(
            "formats:list",
            "formats[].id:str",
            "formats[].name:str",
            "formats[].description:str",
            "formats[].supports_transparency:bool",
            "formats[].supports_lossy:bool",
            "formats[].mime_type:str",
        ),
    ),
    HookCall(
        name="getFormatRecommendations",
        method="GET",
        path="/api/image-studio/convert-format/recommendations?source_format=png",
        caller=C + "ImageProcessingStudio/FormatConverterTab.tsx",
        reads=("recommendations:list", "recommendations[].format:str", "recommendations[].reason:str"),
    ),
    HookCall(
        name="processFormatConversion",
        method="POST",
        path="/api/image-studio/convert-format",
        caller=C + "ImageProcessingStudio/FormatConverterTab.tsx",
        body={
            "image_base64": IMAGE,
            "target_format": "webp",
            "preserve_transparency": True,
            "quality": 85,
            "strip_metadata": False,
            "optimize": True,
            "progressive": True,
        },
        reads=(
            "success:true",
            "image_base64:data_url",
            "original_format:str",
            "target_format:str",
            "original_size_kb:number",
            "converted_size_kb:number",
            "width:int",
            "height:int",
            "transparency_preserved:bool",
            "metadata_preserved:bool",
            "color_space?:str",
        ),
    ),
    HookCall(
        name="saveImageToLibrary",
        method="POST",
        path="/api/image-studio/save-to-library",
        caller=C + "CreateStudio.tsx",
        body={
            "image_base64": RAW_IMAGE,
            "prompt": "A red sneaker on a white studio backdrop",
            "provider": "stability",
            "model": "stable-image-core",
            "operation": "image-generation",
            "output_format": "png",
        },
        reads=(),
        notes="CreateStudio saves every generated image; it ignores the answer and only logs a failure.",
    ),
)
