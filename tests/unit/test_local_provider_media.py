"""The offline provider's clips (animated WebP) and 3D models (GLB): checked by opening the files."""

from __future__ import annotations

import io
import json
import math
import struct
import wave
from typing import Any, Literal

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from imagestudio.imaging.verify import sniff_format
from imagestudio.providers.base import (
    AvatarRequest,
    Media,
    Output,
    ProviderRejected,
    Succeeded,
    ThreeDRequest,
    VideoRequest,
)
from imagestudio.providers.local import Faults, LocalProvider
from imagestudio.providers.local.motion import frame_plan

Resolution = Literal["480p", "720p", "1080p"]


def media(im: Image.Image) -> Media:
    buffer = io.BytesIO()
    im.save(buffer, "PNG")
    return Media(data=buffer.getvalue(), mime="image/png", width=im.width, height=im.height)


def only(result: object) -> Output:
    assert isinstance(result, Succeeded), result
    assert len(result.outputs) == 1
    return result.outputs[0]


def portrait(size: tuple[int, int] = (300, 200)) -> Image.Image:
    """A face-like subject on a plain backdrop."""
    im = Image.new("RGB", size, (225, 230, 235))
    w, h = size
    draw = ImageDraw.Draw(im)
    draw.ellipse((w * 0.35, h * 0.1, w * 0.65, h * 0.9), fill=(210, 160, 130))
    draw.ellipse((w * 0.42, h * 0.35, w * 0.47, h * 0.42), fill=(40, 40, 40))
    draw.ellipse((w * 0.53, h * 0.35, w * 0.58, h * 0.42), fill=(40, 40, 40))
    return im


def frames(output: Output) -> tuple[Image.Image, list[int], list[Image.Image]]:
    assert output.data is not None
    assert output.mime == "image/webp"
    assert sniff_format(output.data) == "WEBP"
    clip = Image.open(io.BytesIO(output.data))
    assert getattr(clip, "is_animated", False)
    durations: list[int] = []
    pictures: list[Image.Image] = []
    for index in range(getattr(clip, "n_frames", 1)):
        clip.seek(index)
        clip.load()
        durations.append(int(clip.info["duration"]))
        pictures.append(clip.convert("RGB"))
    return clip, durations, pictures


def wav(segments: list[tuple[float, float]], rate: int = 8000) -> Media:
    """A mono 16-bit WAV: (seconds, loudness 0..1) segments of a 220 Hz tone."""
    samples = bytearray()
    t = 0
    for seconds, level in segments:
        for _ in range(round(seconds * rate)):
            samples += struct.pack("<h", round(level * 20000 * math.sin(2 * math.pi * 220 * t / rate)))
            t += 1
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(samples))
    return Media(data=buffer.getvalue(), mime="audio/wav")


# ----------------------------------------------------------------------------------------- video


@pytest.mark.parametrize(
    ("resolution", "fps", "duration", "size"),
    [("480p", 2, 5, (854, 480)), ("720p", 1, 5, (1280, 720)), ("1080p", 1, 2, (1920, 1080))],
)
def test_video_is_an_animated_webp_of_the_asked_length_and_resolution(
    resolution: Resolution, fps: int, duration: int, size: tuple[int, int]
) -> None:
    provider = LocalProvider(faults=Faults(), async_jobs=False, video_fps=fps)
    request = VideoRequest(
        image=media(portrait()), model="local-pillow", resolution=resolution, duration=duration
    )
    out = only(provider.image_to_video(request))
    clip, durations, pictures = frames(out)
    assert clip.size == size == (out.width, out.height)
    assert len(durations) == fps * duration == out.extra["frames"]
    assert sum(durations) == duration * 1000
    assert out.duration == duration
    assert mean_abs(pictures[0], pictures[-1]) > 1  # it moves (Ken Burns)


def mean_abs(a: Image.Image, b: Image.Image, mask: Image.Image | None = None) -> float:
    return float(ImageStat.Stat(ImageChops.difference(a, b).convert("L"), mask=mask).mean[0])


def test_default_frame_rate_is_eight_and_a_portrait_image_gives_an_upright_clip() -> None:
    provider = LocalProvider(faults=Faults(), async_jobs=False, video_fps=None, environ={})
    tall = portrait((120, 200))
    out = only(
        provider.image_to_video(VideoRequest(image=media(tall), model="m", resolution="480p", duration=1))
    )
    clip, durations, _ = frames(out)
    assert clip.size == (480, 854)
    assert durations == [125] * 8


def test_uneven_frame_timing_still_adds_up_and_max_frames_caps_the_count() -> None:
    plan = frame_plan(5.0, 3, 240)
    assert plan.frames == 15 and plan.total_ms == 5000 and set(plan.durations_ms) == {333, 334}
    provider = LocalProvider(faults=Faults(), async_jobs=False, video_fps=8, max_frames=4)
    out = only(
        provider.image_to_video(
            VideoRequest(image=media(portrait()), model="m", resolution="480p", duration=10)
        )
    )
    _, durations, _ = frames(out)
    assert durations == [2500] * 4


def test_prompt_chooses_zoom_out() -> None:
    provider = LocalProvider(faults=Faults(), async_jobs=False, video_fps=1)
    zoom_in = only(
        provider.image_to_video(
            VideoRequest(image=media(portrait()), model="m", resolution="480p", duration=2)
        )
    )
    zoom_out = only(
        provider.image_to_video(
            VideoRequest(
                image=media(portrait()), model="m", resolution="480p", duration=2, prompt="slow zoom out"
            )
        )
    )
    assert zoom_in.extra["motion"] == "zoom-in" and zoom_out.extra["motion"] == "zoom-out"


def test_bad_video_requests_are_refused() -> None:
    provider = LocalProvider(faults=Faults(), async_jobs=False)
    with pytest.raises(ProviderRejected):
        provider.image_to_video(VideoRequest(image=media(portrait()), model="m", resolution="4k", duration=5))  # type: ignore[arg-type]
    with pytest.raises(ProviderRejected):
        provider.image_to_video(VideoRequest(image=media(portrait()), model="m", duration=0))


# ----------------------------------------------------------------------------------------- avatar


def test_avatar_lasts_as_long_as_the_audio_and_the_mouth_moves_with_it() -> None:
    provider = LocalProvider(faults=Faults(), async_jobs=False, video_fps=4)
    audio = wav([(1.0, 0.0), (1.5, 1.0)])
    out = only(
        provider.talking_avatar(
            AvatarRequest(image=media(portrait()), audio=audio, model="m", resolution="480p")
        )
    )
    clip, durations, pictures = frames(out)
    assert clip.size == (854, 480)
    assert len(durations) == 10 and sum(durations) == 2500
    assert out.duration == 2.5 and out.extra["audio_driven"] is True
    quiet = [mean_abs(pictures[0], p) for p in pictures[1:4]]
    loud = [mean_abs(pictures[0], p) for p in pictures[5:]]
    assert min(loud) > max(quiet)  # speech opens the mouth; silence barely moves


def test_avatar_with_compressed_audio_uses_its_recorded_duration_and_a_steady_rhythm() -> None:
    provider = LocalProvider(faults=Faults(), async_jobs=False, video_fps=2)
    mp3 = Media(data=b"ID3\x03\x00" + bytes(200), mime="audio/mpeg", duration=3.0)
    out = only(
        provider.talking_avatar(
            AvatarRequest(image=media(portrait()), audio=mp3, model="m", resolution="720p")
        )
    )
    clip, durations, _ = frames(out)
    assert clip.size == (1280, 720)
    assert sum(durations) == 3000 and len(durations) == 6
    assert out.extra["audio_driven"] is False


# ----------------------------------------------------------------------------------------- 3D


def parse_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    magic, version, length = struct.unpack_from("<III", data, 0)
    assert magic == 0x46546C67 and version == 2 and length == len(data)
    json_length, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == 0x4E4F534A and json_length % 4 == 0
    raw_json = data[20 : 20 + json_length]
    assert raw_json == raw_json.rstrip(b" ") + b" " * (len(raw_json) - len(raw_json.rstrip(b" ")))
    document = json.loads(raw_json)
    offset = 20 + json_length
    bin_length, bin_type = struct.unpack_from("<II", data, offset)
    assert bin_type == 0x004E4942 and bin_length % 4 == 0
    assert offset + 8 + bin_length == len(data)
    return document, data[offset + 8 : offset + 8 + bin_length]


SIZES = {5126: 4, 5123: 2, 5125: 4}
COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3}


def test_image_to_3d_is_a_valid_binary_gltf_with_the_image_as_texture() -> None:
    provider = LocalProvider(faults=Faults(), async_jobs=False)
    out = only(
        provider.image_to_3d(ThreeDRequest(image=media(portrait()), model="m", texture_resolution=256))
    )
    assert out.mime == "model/gltf-binary" and out.data is not None
    document, binary = parse_glb(out.data)
    assert document["asset"]["version"] == "2.0"
    assert document["buffers"] == [{"byteLength": len(binary)}]
    for view in document["bufferViews"]:
        assert view["byteOffset"] % 4 == 0
        assert view["byteOffset"] + view["byteLength"] <= len(binary)

    primitive = document["meshes"][0]["primitives"][0]
    accessors = document["accessors"]
    attributes = {name: accessors[i] for name, i in primitive["attributes"].items()}
    assert set(attributes) == {"POSITION", "NORMAL", "TEXCOORD_0"}
    count = attributes["POSITION"]["count"]
    assert count == 32 * 32 and all(a["count"] == count for a in attributes.values())
    for accessor in accessors:
        view = document["bufferViews"][accessor["bufferView"]]
        assert (
            view["byteLength"]
            == accessor["count"] * SIZES[accessor["componentType"]] * COMPONENTS[accessor["type"]]
        )

    position = attributes["POSITION"]
    pview = document["bufferViews"][position["bufferView"]]
    values = struct.unpack_from(f"<{count * 3}f", binary, pview["byteOffset"])
    assert position["min"] == [min(values[k::3]) for k in range(3)]
    assert position["max"] == [max(values[k::3]) for k in range(3)]
    assert position["max"][2] > position["min"][2]  # a relief, not a flat card

    indices = accessors[primitive["indices"]]
    iview = document["bufferViews"][indices["bufferView"]]
    assert indices["count"] % 3 == 0 and indices["count"] // 3 == 31 * 31 * 2 == out.extra["triangles"]
    index_values = struct.unpack_from(f"<{indices['count']}H", binary, iview["byteOffset"])
    assert max(index_values) == count - 1

    material = document["materials"][primitive["material"]]
    texture = document["textures"][material["pbrMetallicRoughness"]["baseColorTexture"]["index"]]
    image = document["images"][texture["source"]]
    assert image["mimeType"] == "image/png"
    view = document["bufferViews"][image["bufferView"]]
    png = binary[view["byteOffset"] : view["byteOffset"] + view["byteLength"]]
    embedded = Image.open(io.BytesIO(png))
    assert embedded.format == "PNG" and max(embedded.size) == 256
    assert embedded.size == (256, 171)


def test_image_to_3d_normals_are_unit_length() -> None:
    provider = LocalProvider(faults=Faults(), async_jobs=False)
    out = only(provider.image_to_3d(ThreeDRequest(image=media(portrait((64, 64))), model="m")))
    assert out.data is not None
    document, binary = parse_glb(out.data)
    normal = document["accessors"][document["meshes"][0]["primitives"][0]["attributes"]["NORMAL"]]
    view = document["bufferViews"][normal["bufferView"]]
    values = struct.unpack_from(f"<{normal['count'] * 3}f", binary, view["byteOffset"])
    for k in range(0, len(values), 3):
        assert abs(math.sqrt(values[k] ** 2 + values[k + 1] ** 2 + values[k + 2] ** 2) - 1) < 1e-5
        assert values[k + 2] > 0  # facing the viewer
