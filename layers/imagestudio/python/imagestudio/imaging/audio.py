"""Verify audio someone gave us (WAV or MP3) and measure it. Pure: bytes in, facts out, no AWS.

`verify_audio` trusts nothing but the bytes:

1. the size in bytes is capped (`max_bytes`), and empty files are refused;
2. the format is sniffed from the contents, never from a file name or a declared content type:
   WAV is a RIFF/WAVE file, MP3 is a run of MPEG audio Layer III frames (after any ID3v2 tag);
3. WAV: the `fmt ` chunk is read by the stdlib `wave` module (PCM); when `wave` refuses it (float
   samples, WAVE_FORMAT_EXTENSIBLE on Python 3.11), the RIFF header is parsed here instead. The
   duration is the frames in the `data` chunk over the sample rate, and a `data` chunk that
   announces more bytes than the file holds is refused as truncated;
4. MP3: the frame headers are walked (MPEG 1, 2 or 2.5, Layer III, bitrate, sample rate, padding)
   and each frame's samples summed; at least `MIN_MP3_FRAMES` consecutive valid frames are needed.
   A Xing/Info (LAME) or VBRI header gives the encoder's frame count: when the frames present fall
   short of it the file is refused as truncated, and the LAME encoder delay and padding are taken
   off, so a 30 s clip measures 30 s and not 30.04 s. Trailing tags (ID3v1, APE) and a cut-off
   last frame are ignored, as decoders do;
5. the duration is checked against `min_seconds`/`max_seconds`, with `DURATION_TOLERANCE_SECONDS`
   of slack for the frame granularity of MP3.

Every rejection is an InvalidInput (422) whose message says the limit and the file's value.
"""

from __future__ import annotations

import io
import struct
import wave
from dataclasses import dataclass, field
from typing import Final, Literal

from imagestudio.errors import InvalidInput
from imagestudio.imaging.inline import InlineKind, decode_inline
from imagestudio.imaging.verify import human_size

AudioMime = Literal["audio/wav", "audio/mpeg"]

MIN_MP3_FRAMES: Final = 3
# MP3 durations come in whole frames (26 ms at 44.1 kHz) plus encoder padding when no LAME tag says it.
DURATION_TOLERANCE_SECONDS: Final = 0.05
# How far past the ID3v2 tag the first MP3 frame may start (some encoders leave padding or junk).
_SYNC_SEARCH_BYTES: Final = 64 * 1024
_DATA_URL_EXAMPLE = "data:audio/mpeg;base64,SUQzBAAAAAAA..."


@dataclass(frozen=True)
class VerifiedAudio:
    data: bytes = field(repr=False)
    mime: AudioMime
    duration: float
    bytes: int
    sample_rate: int | None
    channels: int | None


# ----------------------------------------------------------------------------- messages


def _seconds(value: float) -> str:
    """31.0 -> '31 s', 3.5 -> '3.5 s', 30.0417 -> '30.042 s'."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{text} s"


def _not_audio(hint: str = "") -> InvalidInput:
    return InvalidInput(
        "The file is not audio: the bytes are not WAV or MP3"
        + (f" ({hint})" if hint else "")
        + ". Send a WAV or an MP3 file.",
        details={"field": "audio", "accepted_formats": ["audio/wav", "audio/mpeg"]},
    )


def _sniff_hint(data: bytes) -> str:
    """Name a few formats people send by mistake, so the message says what to convert."""
    if data[:4] == b"fLaC":
        return "it looks like FLAC"
    if data[:4] == b"OggS":
        return "it looks like Ogg (Vorbis or Opus)"
    if data[4:8] == b"ftyp":
        return "it looks like MP4/M4A"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "it looks like WebM/Matroska"
    if data[:4] in (b"RF64", b"RIFX"):
        return f"{data[:4].decode()} WAV variants are not supported"
    if data[:4] == b"RIFF":
        return f"a RIFF file of type {data[8:12]!r}, not WAVE"
    if data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff":
        return "it is an image"
    return ""


# ----------------------------------------------------------------------------- WAV

_WAVE_FORMAT_PCM: Final = 0x0001
_WAVE_FORMAT_IEEE_FLOAT: Final = 0x0003
_WAVE_FORMAT_EXTENSIBLE: Final = 0xFFFE
_ACCEPTED_WAV_CODES: Final = {_WAVE_FORMAT_PCM: "PCM", _WAVE_FORMAT_IEEE_FLOAT: "IEEE float"}
_KNOWN_WAV_CODES: Final = {
    0x0002: "Microsoft ADPCM",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0055: "MP3 in WAV",
}
# KSDATAFORMAT_SUBTYPE_*: the format code in the first two bytes, then this fixed tail.
_GUID_TAIL: Final = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
_UNKNOWN_DATA_SIZE: Final = 0xFFFFFFFF  # streaming writers that never came back to fill it in


@dataclass(frozen=True)
class _WavLayout:
    fmt: bytes
    data_offset: int
    data_size: int  # as declared in the header


def _wav_layout(data: bytes) -> _WavLayout:
    fmt: bytes | None = None
    data_offset = data_size = -1
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body = pos + 8
        if chunk_id == b"fmt ":
            if body + size > len(data):
                raise _truncated_wav(f"its 'fmt ' chunk is cut short at byte {len(data)}")
            fmt = data[body : body + size]
        elif chunk_id == b"data":
            data_offset, data_size = body, size
            if fmt is not None or body + size > len(data):
                break
        pos = body + size + (size & 1)
    if fmt is None:
        if data_offset >= 0:
            raise _truncated_wav("it has no 'fmt ' chunk describing the samples")
        raise _truncated_wav(f"it ends at byte {len(data)}, before its 'fmt ' chunk")
    if data_offset < 0:
        raise _truncated_wav("it has no 'data' chunk holding the samples")
    return _WavLayout(fmt=fmt, data_offset=data_offset, data_size=data_size)


def _truncated_wav(why: str) -> InvalidInput:
    return InvalidInput(
        f"The WAV file is damaged or truncated: {why}. Export the file again and resend it.",
        details={"field": "audio", "format": "audio/wav"},
    )


def _wav_format_code(fmt: bytes) -> int:
    (code,) = struct.unpack_from("<H", fmt, 0)
    if code == _WAVE_FORMAT_EXTENSIBLE:
        if len(fmt) < 40 or fmt[26:40] != _GUID_TAIL:
            raise _truncated_wav("its WAVE_FORMAT_EXTENSIBLE header has no valid sub-format")
        (code,) = struct.unpack_from("<H", fmt, 24)
    return int(code)


def _wav_params(data: bytes, fmt: bytes) -> tuple[int, int, int]:
    """(channels, sample_rate, block_align): from `wave` for PCM, else from the `fmt ` chunk."""
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            channels, sample_width, rate = reader.getnchannels(), reader.getsampwidth(), reader.getframerate()
        return channels, rate, channels * sample_width
    except (wave.Error, EOFError, struct.error):
        pass  # not plain PCM as `wave` knows it (float, extensible): read the header ourselves
    if len(fmt) < 16:
        raise _truncated_wav(f"its 'fmt ' chunk is {len(fmt)} bytes, under the 16 it needs")
    code = _wav_format_code(fmt)
    if code not in _ACCEPTED_WAV_CODES:
        name = _KNOWN_WAV_CODES.get(code, "an encoding we do not read")
        raise InvalidInput(
            f"The WAV file is encoded as {name} (format 0x{code:04X}); only PCM and IEEE float WAV are"
            " accepted. Export it as 16-bit PCM WAV or as MP3.",
            details={"field": "audio", "wav_format": code},
        )
    channels, rate, _byte_rate, block_align = struct.unpack_from("<HIIH", fmt, 2)
    return int(channels), int(rate), int(block_align)


def _verify_wav(data: bytes) -> tuple[float, int, int]:
    layout = _wav_layout(data)
    channels, rate, block_align = _wav_params(data, layout.fmt)
    if channels <= 0 or rate <= 0 or block_align <= 0:
        raise _truncated_wav(
            f"its header says {channels} channel(s) at {rate} Hz with {block_align}-byte frames"
        )
    available = len(data) - layout.data_offset
    size = layout.data_size
    if size == _UNKNOWN_DATA_SIZE:
        size = available
    elif size > available:
        raise _truncated_wav(
            f"its header announces {human_size(size)} of samples"
            f" ({_seconds(size // block_align / rate)}) but the file holds only {human_size(available)}"
            f" ({_seconds(available // block_align / rate)})"
        )
    frames = size // block_align
    if frames == 0:
        raise InvalidInput(
            "The WAV file holds no samples: its 'data' chunk is empty. Send a recording with sound in it.",
            details={"field": "audio", "format": "audio/wav"},
        )
    return frames / rate, rate, channels


# ----------------------------------------------------------------------------- MP3

# version bits -> (name, sample rates by index, samples per Layer III frame, frame size coefficient)
_MPEG_VERSIONS: Final[dict[int, tuple[str, tuple[int, int, int], int, int]]] = {
    0b11: ("MPEG-1", (44100, 48000, 32000), 1152, 144),
    0b10: ("MPEG-2", (22050, 24000, 16000), 576, 72),
    0b00: ("MPEG-2.5", (11025, 12000, 8000), 576, 72),
}
# Layer III bitrates in kbit/s by index (0 is "free format", 15 is invalid: both refused).
_BITRATES_V1: Final = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0)
_BITRATES_V2: Final = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0)
_MONO: Final = 0b11


@dataclass(frozen=True)
class _Frame:
    version: int
    sample_rate: int
    samples: int
    length: int
    channels: int
    crc: bool

    def same_stream(self, other: _Frame) -> bool:
        return (
            self.version == other.version
            and self.sample_rate == other.sample_rate
            and self.channels == other.channels
        )


def _frame_at(data: bytes, pos: int) -> _Frame | None:
    """The MPEG audio Layer III frame whose header starts at `pos`, or None."""
    if pos + 4 > len(data):
        return None
    header = int.from_bytes(data[pos : pos + 4], "big")
    if header >> 21 != 0x7FF:
        return None
    version = (header >> 19) & 0b11
    layer = (header >> 17) & 0b11
    bitrate_index = (header >> 12) & 0xF
    rate_index = (header >> 10) & 0b11
    if version not in _MPEG_VERSIONS or layer != 0b01 or rate_index == 0b11 or header & 0b11 == 0b10:
        return None
    bitrate = (_BITRATES_V1 if version == 0b11 else _BITRATES_V2)[bitrate_index] * 1000
    if not bitrate:
        return None
    _name, rates, samples, coefficient = _MPEG_VERSIONS[version]
    sample_rate = rates[rate_index]
    padding = (header >> 9) & 1
    return _Frame(
        version=version,
        sample_rate=sample_rate,
        samples=samples,
        length=coefficient * bitrate // sample_rate + padding,
        channels=1 if (header >> 6) & 0b11 == _MONO else 2,
        crc=not (header >> 16) & 1,
    )


def _chain_at(data: bytes, pos: int, count: int) -> _Frame | None:
    """The frame at `pos` when `count` whole frames of one stream follow each other from there."""
    first = _frame_at(data, pos)
    if first is None:
        return None
    frame = first
    for i in range(count):
        if pos + frame.length > len(data):
            return None
        pos += frame.length
        if i < count - 1:
            following = _frame_at(data, pos)
            if following is None or not following.same_stream(first):
                return None
            frame = following
    return first


def _skip_id3v2(data: bytes) -> int:
    pos = 0
    while data[pos : pos + 3] == b"ID3":
        if pos + 10 > len(data):
            raise _truncated_mp3(f"its ID3 tag header is cut short at byte {len(data)}")
        size_bytes = data[pos + 6 : pos + 10]
        if any(b & 0x80 for b in size_bytes):
            raise _truncated_mp3("its ID3 tag has an invalid size")
        size = 0
        for byte in size_bytes:  # synchsafe: 7 bits per byte
            size = (size << 7) | byte
        footer = 10 if data[pos + 5] & 0x10 else 0
        end = pos + 10 + size + footer
        if end > len(data):
            raise _truncated_mp3(
                f"its ID3 tag announces {human_size(size)} but the file ends after {human_size(len(data))}"
            )
        pos = end
    return pos


def _truncated_mp3(why: str) -> InvalidInput:
    return InvalidInput(
        f"The MP3 file is damaged or truncated: {why}. Export the file again and resend it.",
        details={"field": "audio", "format": "audio/mpeg"},
    )


@dataclass(frozen=True)
class _VbrHeader:
    frames: int | None
    delay: int = 0
    padding: int = 0


def _vbr_header(data: bytes, pos: int, frame: _Frame) -> _VbrHeader | None:
    """A Xing/Info (with its LAME extension) or VBRI header in the frame at `pos`: it carries no audio."""
    end = pos + frame.length
    if frame.version == 0b11:
        side_info = 17 if frame.channels == 1 else 32
    else:
        side_info = 9 if frame.channels == 1 else 17
    offsets = [pos + 4 + side_info] + ([pos + 6 + side_info] if frame.crc else [])
    for at in offsets:
        if data[at : at + 4] not in (b"Xing", b"Info") or at + 8 > end:
            continue
        (flags,) = struct.unpack_from(">I", data, at + 4)
        cursor = at + 8
        frames: int | None = None
        if flags & 0x1 and cursor + 4 <= end:
            (frames,) = struct.unpack_from(">I", data, cursor)
        cursor += 4 * bool(flags & 0x1) + 4 * bool(flags & 0x2) + 100 * bool(flags & 0x4)
        cursor += 4 * bool(flags & 0x8)
        delay = padding = 0
        # LAME extension: 9-byte encoder name, ... encoder delay and padding as 12 + 12 bits at +21.
        if data[cursor : cursor + 4] in (b"LAME", b"Lavc", b"Lavf", b"L3.9") and cursor + 24 <= end:
            packed = int.from_bytes(data[cursor + 21 : cursor + 24], "big")
            delay, padding = packed >> 12, packed & 0xFFF
        return _VbrHeader(frames=frames, delay=delay, padding=padding)
    at = pos + 4 + 32
    if data[at : at + 4] == b"VBRI" and at + 18 <= end:
        (frames,) = struct.unpack_from(">I", data, at + 14)
        return _VbrHeader(frames=frames)
    return None


def _count_frames(data: bytes, pos: int, first: _Frame) -> int:
    """Whole frames of `first`'s stream from `pos` on, up to the first thing that is not one."""
    # a stream uses a handful of distinct headers: parse each once, then only look them up
    lengths: dict[bytes, int] = {}
    size, frames = len(data), 0
    while True:
        header = data[pos : pos + 4]
        length = lengths.get(header)
        if length is None:
            frame = _frame_at(data, pos)
            if frame is None or not frame.same_stream(first):
                return frames
            length = lengths[header] = frame.length
        if pos + length > size:
            return frames
        frames += 1
        pos += length


def _find_first_frame(data: bytes, start: int) -> tuple[int, _Frame] | None:
    """The first frame at or after `start` that begins a run of `MIN_MP3_FRAMES` valid frames."""
    limit = min(len(data), start + _SYNC_SEARCH_BYTES)
    pos = data.find(b"\xff", start, limit)
    while pos >= 0:
        first = _chain_at(data, pos, MIN_MP3_FRAMES)
        if first is not None:
            return pos, first
        pos = data.find(b"\xff", pos + 1, limit)
    return None


def _verify_mp3(data: bytes) -> tuple[float, int, int] | None:
    """(duration, sample rate, channels), or None when the bytes are not MP3 at all."""
    tagged = data[:3] == b"ID3"
    found = _find_first_frame(data, _skip_id3v2(data))
    if found is None:
        if tagged:
            raise _truncated_mp3(
                f"after its ID3 tag there are not {MIN_MP3_FRAMES} consecutive MPEG audio Layer III frames"
            )
        return None
    pos, first = found
    vbr = _vbr_header(data, pos, first)
    if vbr is not None:
        pos += first.length  # the Xing/Info/VBRI frame is silent bookkeeping, not audio
    frames = _count_frames(data, pos, first)
    rate, samples = first.sample_rate, first.samples
    total_samples = frames * samples
    if vbr is not None and vbr.frames:
        declared = vbr.frames
        slack = max(2, declared // 100)
        if frames + slack < declared:
            raise _truncated_mp3(
                f"its header announces {declared} frames ({_seconds(declared * samples / rate)}) but the"
                f" file holds only {frames} ({_seconds(frames * samples / rate)})"
            )
        if frames <= declared + slack:
            total_samples = max(0, declared * samples - vbr.delay - vbr.padding)
    if total_samples <= 0:
        raise _truncated_mp3("it holds no audio frames after its header frame")
    return total_samples / rate, rate, first.channels


# ----------------------------------------------------------------------------- public


def verify_audio(
    data: bytes,
    *,
    max_bytes: int,
    min_seconds: float | None = None,
    max_seconds: float | None = None,
) -> VerifiedAudio:
    """Check that `data` is a WAV or MP3 file within the limits, and measure it. Raises InvalidInput."""
    if not data:
        raise InvalidInput("The audio file is empty. Send a WAV or an MP3 file.", details={"field": "audio"})
    if len(data) > max_bytes:
        raise InvalidInput(
            f"The audio file is {human_size(len(data))}; audio is limited to {human_size(max_bytes)}."
            " Send a shorter clip or a more compressed MP3.",
            details={"field": "audio", "max_bytes": max_bytes, "bytes": len(data)},
        )
    mime: AudioMime
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        mime = "audio/wav"
        duration, sample_rate, channels = _verify_wav(data)
    else:
        measured = _verify_mp3(data)
        if measured is None:
            raise _not_audio(_sniff_hint(data))
        mime = "audio/mpeg"
        duration, sample_rate, channels = measured
    _check_duration(duration, min_seconds=min_seconds, max_seconds=max_seconds)
    return VerifiedAudio(
        data=data,
        mime=mime,
        duration=duration,
        bytes=len(data),
        sample_rate=sample_rate,
        channels=channels,
    )


def _check_duration(duration: float, *, min_seconds: float | None, max_seconds: float | None) -> None:
    limits = {"min_seconds": min_seconds, "max_seconds": max_seconds, "duration": round(duration, 3)}
    if min_seconds is not None and max_seconds is not None:
        accepted = f"{_seconds(min_seconds)} to {_seconds(max_seconds)}"
    elif min_seconds is not None:
        accepted = f"at least {_seconds(min_seconds)}"
    else:
        accepted = f"at most {_seconds(max_seconds or 0)}"
    if min_seconds is not None and duration + DURATION_TOLERANCE_SECONDS < min_seconds:
        raise InvalidInput(
            f"The audio is {_seconds(duration)} long; it must be {accepted}. Send a longer clip.",
            details={"field": "audio", **limits},
        )
    if max_seconds is not None and duration - DURATION_TOLERANCE_SECONDS > max_seconds:
        raise InvalidInput(
            f"The audio is {_seconds(duration)} long; it must be {accepted}. Trim it and resend it.",
            details={"field": "audio", **limits},
        )


def _audio_too_big(size: int, max_bytes: int, at_least: bool) -> InvalidInput:
    amount = f"at least {human_size(size)}" if at_least else human_size(size)
    return InvalidInput(
        f"The inline audio is {amount} once decoded; inline audio is limited to {human_size(max_bytes)}.",
        details={"field": "audio", "max_bytes": max_bytes},
    )


AUDIO: Final = InlineKind(
    noun="audio",
    media_prefix="audio/",
    type_phrase="an audio type",
    send_phrase="WAV or MP3 audio",
    example=_DATA_URL_EXAMPLE,
    too_big=_audio_too_big,
)


def decode_inline_audio(value: str, *, max_bytes: int) -> bytes:
    """Decode raw base64 or a `data:audio/...;base64,` URL (whitespace, missing padding and the URL-safe
    alphabet tolerated, as for inline images). Only the transport is checked here: pass the bytes to
    `verify_audio`. Raises InvalidInput (422) for bad base64 or more than `max_bytes`.
    """
    return decode_inline(value, kind=AUDIO, max_bytes=max_bytes)
