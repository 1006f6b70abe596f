"""Image-to-video and talking avatars as animated WebP files.

Frame timing: `frames` frames whose millisecond durations add up to the requested length exactly
(5 s at 8 fps: 40 frames of 125 ms; when the length does not divide evenly, some frames are 1 ms longer).
`max_frames` caps the frame count for long clips (the frames get longer; the total stays exact).
Resolution: 480p 854x480, 720p 1280x720, 1080p 1920x1080; a portrait image (taller than wide) gets
the same resolution turned upright (480x854, ...). The image is scaled and centre-cropped to fill.

- video: a Ken Burns move: a slow zoom (in by default; "zoom out" in the prompt reverses it) with a
  pan chosen by the seed ("pan left"/"pan right"/"pan up"/"pan down" in the prompt choose it).
- avatar: the subject (found as remove_background finds it) breathes gently, and a mouth-shaped shadow
  at the lower middle of the face opens with the audio's loudness: per-frame RMS of a WAV file (stdlib
  `wave`), normalised to the loudest frame; other audio formats get a steady speaking rhythm. The
  clip lasts as long as the audio (its WAV header, else the `duration` the upload recorded, else 5 s).
"""

from __future__ import annotations

import io
import math
import random
import sys
import wave
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageDraw, ImageFilter

from imagestudio.providers.base import Media, Output, ProviderRejected
from imagestudio.providers.local.common import RENDERER, cover, rgb, rng_for, words
from imagestudio.providers.local.edit import subject_alpha

RESOLUTIONS: Final[dict[str, tuple[int, int]]] = {
    "480p": (854, 480),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
}
DEFAULT_FPS: Final = 8
DEFAULT_MAX_FRAMES: Final = 240
DEFAULT_AUDIO_SECONDS: Final = 5.0
MAX_SECONDS: Final = 600.0


@dataclass(frozen=True)
class FramePlan:
    durations_ms: tuple[int, ...]

    @property
    def frames(self) -> int:
        return len(self.durations_ms)

    @property
    def total_ms(self) -> int:
        return sum(self.durations_ms)

    def start_ms(self, index: int) -> int:
        return sum(self.durations_ms[:index])


def frame_plan(seconds: float, fps: int, max_frames: int) -> FramePlan:
    if not 0 < seconds <= MAX_SECONDS:
        raise ProviderRejected(
            f"A clip must last more than 0 and at most {MAX_SECONDS:g} seconds; got {seconds:g}."
        )
    total = max(1, round(seconds * 1000))
    frames = max(1, min(max(1, max_frames), round(seconds * max(1, fps)), total))
    base, extra = divmod(total, frames)
    return FramePlan(tuple(base + (1 if i < extra else 0) for i in range(frames)))


def output_size(resolution: str, image_size: tuple[int, int]) -> tuple[int, int]:
    if resolution not in RESOLUTIONS:
        raise ProviderRejected(f"Unknown resolution '{resolution}'. Valid: {', '.join(RESOLUTIONS)}.")
    w, h = RESOLUTIONS[resolution]
    return (h, w) if image_size[1] > image_size[0] else (w, h)


def encode_webp(frames: Sequence[Image.Image], plan: FramePlan) -> bytes:
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        "WEBP",
        save_all=True,
        append_images=list(frames[1:]),
        duration=list(plan.durations_ms),
        loop=0,
        quality=72,
        method=0,
    )
    return buffer.getvalue()


def _clip_output(data: bytes, size: tuple[int, int], plan: FramePlan, seed: int, **extra: object) -> Output:
    return Output(
        mime="image/webp",
        data=data,
        width=size[0],
        height=size[1],
        duration=plan.total_ms / 1000,
        seed=seed,
        extra={
            "renderer": RENDERER,
            "format": "webp",
            "animated": True,
            "frames": plan.frames,
            "fps": round(plan.frames * 1000 / plan.total_ms, 3),
            **extra,
        },
    )


# ----------------------------------------------------------------------------------------- video


def _prepared(image: Image.Image, size: tuple[int, int], margin: float) -> Image.Image:
    """The image covering `size` enlarged by `margin`, so every frame is a crop of it."""
    big = (max(1, round(size[0] * margin)), max(1, round(size[1] * margin)))
    return cover(rgb(image), big)


def video(
    image: Image.Image,
    *,
    resolution: str,
    seconds: float,
    prompt: str | None,
    seed: int,
    fps: int = DEFAULT_FPS,
    max_frames: int = DEFAULT_MAX_FRAMES,
) -> Output:
    size = output_size(resolution, image.size)
    plan = frame_plan(seconds, fps, max_frames)
    rng = rng_for("video", seed, prompt)
    zoom = rng.uniform(0.12, 0.22)
    source = _prepared(image, size, 1.0 + zoom)
    sw, sh = source.size
    tokens = words(prompt)
    text = " ".join(tokens)
    angle = rng.uniform(0, 2 * math.pi)
    for phrase, a in (
        ("pan left", math.pi),
        ("pan right", 0.0),
        ("pan up", -math.pi / 2),
        ("pan down", math.pi / 2),
    ):
        if phrase in text:
            angle = a
    zoom_out = "zoom out" in text or "pull back" in text
    frames: list[Image.Image] = []
    for i in range(plan.frames):
        t = (plan.start_ms(i) + plan.durations_ms[i] / 2) / plan.total_ms
        ease = t * t * (3 - 2 * t)
        progress = 1 - ease if zoom_out else ease
        scale = 1.0 + zoom * progress  # how much the view is magnified
        bw, bh = sw / scale, sh / scale
        slack_x, slack_y = (sw - bw) / 2, (sh - bh) / 2
        cx = sw / 2 + math.cos(angle) * slack_x * 0.8 * progress
        cy = sh / 2 + math.sin(angle) * slack_y * 0.8 * progress
        box = (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)
        frames.append(source.resize(size, Image.Resampling.BILINEAR, box=box))
    return _clip_output(
        encode_webp(frames, plan), size, plan, seed, motion="zoom-out" if zoom_out else "zoom-in"
    )


# ----------------------------------------------------------------------------------------- avatar


def audio_seconds(audio: Media) -> float:
    if _is_wav(audio.data):
        try:
            with wave.open(io.BytesIO(audio.data)) as wav:
                rate = wav.getframerate()
                return wav.getnframes() / rate if rate else DEFAULT_AUDIO_SECONDS
        except (wave.Error, EOFError) as exc:
            raise ProviderRejected(f"The audio is a WAV file that could not be read: {exc}") from exc
    if audio.duration and audio.duration > 0:
        return float(audio.duration)
    return DEFAULT_AUDIO_SECONDS


def _is_wav(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def loudness(audio: Media, plan: FramePlan) -> list[float]:
    """0..1 per frame: the audio's RMS in the frame's time window over the loudest window; a steady
    speaking rhythm when the audio is not WAV."""
    if not _is_wav(audio.data):
        return [
            0.55 + 0.45 * math.sin(2 * math.pi * 3.2 * plan.start_ms(i) / 1000) ** 2
            for i in range(plan.frames)
        ]
    levels: list[float] = []
    with wave.open(io.BytesIO(audio.data)) as wav:
        rate, width = wav.getframerate(), wav.getsampwidth()
        for i in range(plan.frames):
            count = max(1, round(plan.durations_ms[i] * rate / 1000))
            levels.append(_rms(wav.readframes(count), width))
    top = max(levels) if levels else 0.0
    if top <= 1e-9:
        return [0.0] * plan.frames
    return [min(1.0, v / top) for v in levels]


def _rms(chunk: bytes, width: int) -> float:
    if not chunk:
        return 0.0
    samples: array[int]
    if width == 1:
        samples = array("b", bytes((b - 128) & 0xFF for b in chunk[:: max(1, len(chunk) // 4000)]))
        scale = 128.0
    elif width == 2:
        samples = array("h", chunk[: len(chunk) - len(chunk) % 2])
        scale = 32768.0
    elif width == 3:
        samples = array("b", chunk[2::3])  # the high byte of each 24-bit sample is plenty for loudness
        scale = 128.0
    else:
        samples = array("i", chunk[: len(chunk) - len(chunk) % 4])
        scale = 2147483648.0
    if width in (2, 4) and sys.byteorder == "big":
        samples.byteswap()
    step = max(1, len(samples) // 2000)
    picked = samples[::step]
    if not picked:
        return 0.0
    return math.sqrt(sum(float(s) * float(s) for s in picked) / len(picked)) / scale


def _face_box(frame: Image.Image) -> tuple[float, float, float, float]:
    """Where the subject is (as remove_background sees it), or the middle of the frame."""
    small = frame.copy()
    small.thumbnail((160, 160))
    box = subject_alpha(small).point(lambda v: 255 if v >= 128 else 0).getbbox()
    fx, fy = frame.width / small.width, frame.height / small.height
    w, h = frame.size
    if box is None or (box[2] - box[0]) * (box[3] - box[1]) > 0.92 * small.width * small.height:
        return (w * 0.3, h * 0.12, w * 0.7, h * 0.88)
    return (box[0] * fx, box[1] * fy, box[2] * fx, box[3] * fy)


def avatar(
    image: Image.Image,
    audio: Media,
    *,
    resolution: str,
    seed: int,
    fps: int = DEFAULT_FPS,
    max_frames: int = DEFAULT_MAX_FRAMES,
) -> Output:
    size = output_size(resolution, image.size)
    plan = frame_plan(audio_seconds(audio), fps, max_frames)
    levels = loudness(audio, plan)
    source = _prepared(image, size, 1.03)
    base = cover(source, size)
    left, top, right, bottom = _face_box(base)
    fw, fh = right - left, bottom - top
    # a face's mouth sits about two thirds down its head; the head is the top of the subject's box
    head = min(fh, fw * 1.3)
    mx, my = (left + right) / 2, top + head * 0.68
    mouth_w, mouth_h = max(4.0, fw * 0.22), max(3.0, head * 0.12)
    pad = round(mouth_w)
    patch_box = (round(mx - pad), round(my - pad), round(mx + pad), round(my + pad))
    rng = random.Random(seed)
    phase = rng.uniform(0, 2 * math.pi)
    sw, sh = source.size
    frames: list[Image.Image] = []
    for i, level in enumerate(levels):
        t = plan.start_ms(i) / 1000
        breathe = 1.0 + 0.012 * (0.5 + 0.5 * math.sin(2 * math.pi * 0.4 * t + phase)) + 0.004 * level
        bw, bh = sw / breathe / 1.03, sh / breathe / 1.03
        box = (
            (sw - bw) / 2,
            (sh - bh) / 2 - 0.004 * sh * level,
            (sw + bw) / 2,
            (sh + bh) / 2 - 0.004 * sh * level,
        )
        frame = source.resize(size, Image.Resampling.BILINEAR, box=box)
        opening = 0.12 + 0.88 * level
        shape = Image.new("L", (2 * pad, 2 * pad), 0)
        ImageDraw.Draw(shape).ellipse(
            (pad - mouth_w / 2, pad - mouth_h * opening / 2, pad + mouth_w / 2, pad + mouth_h * opening / 2),
            fill=round(150 + 100 * level),
        )
        shape = shape.filter(ImageFilter.GaussianBlur(max(0.8, mouth_h / 6)))
        frame.paste((55, 18, 24), patch_box, shape)
        frames.append(frame)
    return _clip_output(encode_webp(frames, plan), size, plan, seed, audio_driven=_is_wav(audio.data))
