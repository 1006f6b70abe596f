"""verify_audio and decode_inline_audio: WAV and MP3 recognised and measured from their bytes."""

from __future__ import annotations

import base64
import contextlib
import io
import struct
import wave

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagestudio.errors import InvalidInput
from imagestudio.imaging.audio import VerifiedAudio, decode_inline_audio, verify_audio

MB = 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


# ----------------------------------------------------------------------------- fixtures


def wav_bytes(seconds: float, *, rate: int = 44100, channels: int = 1, width: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(b"\x00" * (round(seconds * rate) * channels * width))
    return buffer.getvalue()


def extensible_wav(seconds: float, *, rate: int = 48000, channels: int = 2, sub_format: int = 3) -> bytes:
    """WAVE_FORMAT_EXTENSIBLE with 32-bit samples (IEEE float by default): the stdlib cannot read it."""
    bits, block = 32, channels * 4
    guid = struct.pack("<H", sub_format) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    fmt = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * block, block, bits, 22, bits, 3) + guid
    samples = b"\x00" * (round(seconds * rate) * block)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    chunks += b"LIST" + struct.pack("<I", 5) + b"INFOx\x00"  # odd-sized chunk: padded to even
    chunks += b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def mp3_header(*, bitrate_index: int = 9, rate_index: int = 0, padding: int = 0, mono: bool = False) -> bytes:
    """An MPEG-1 Layer III frame header, no CRC (defaults: 128 kbit/s, 44.1 kHz, stereo)."""
    value = (0x7FF << 21) | (0b11 << 19) | (0b01 << 17) | (1 << 16)
    value |= (bitrate_index << 12) | (rate_index << 10) | (padding << 9) | ((0b11 if mono else 0b00) << 6)
    return value.to_bytes(4, "big")


def mp3_frames(count: int, *, kbps: int = 128, rate: int = 44100, mono: bool = False) -> bytes:
    """`count` MPEG-1 Layer III frames with zero payload, padded as an encoder pads them (417/418 bytes
    at 128 kbit/s 44.1 kHz)."""
    bitrate_index = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320).index(kbps)
    rate_index = (44100, 48000, 32000).index(rate)
    out, remainder = bytearray(), 0
    for _ in range(count):
        remainder += (144 * kbps * 1000) % rate
        padding = 1 if remainder >= rate else 0
        remainder -= padding * rate
        length = 144 * kbps * 1000 // rate + padding
        header = mp3_header(bitrate_index=bitrate_index, rate_index=rate_index, padding=padding, mono=mono)
        out += header + b"\x00" * (length - 4)
    return bytes(out)


def mpeg2_frames(count: int) -> bytes:
    """MPEG-2 Layer III, 64 kbit/s, 22.05 kHz, mono: 576 samples and 208/209 bytes per frame."""
    value = (0x7FF << 21) | (0b10 << 19) | (0b01 << 17) | (1 << 16) | (8 << 12) | (0 << 10) | (0b11 << 6)
    return (value.to_bytes(4, "big") + b"\x00" * 204) * count


def info_frame(frames: int, *, delay: int = 0, padding: int = 0, tag: bytes = b"Info") -> bytes:
    """A LAME Xing/Info frame (MPEG-1 stereo: the tag sits after 32 bytes of side info)."""
    body = bytearray(417)
    body[0:4] = mp3_header()
    xing = tag + struct.pack(">II", 0x1, frames)
    lame = b"LAME3.100" + b"\x00" * 12 + ((delay << 12) | padding).to_bytes(3, "big")
    body[36 : 36 + len(xing) + len(lame)] = xing + lame
    return bytes(body)


def id3v2(size: int = 1000) -> bytes:
    synchsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x04\x00\x00" + synchsafe + b"T" * size


def rejected(
    data: bytes,
    *,
    max_bytes: int = 50 * MB,
    min_seconds: float | None = None,
    max_seconds: float | None = None,
) -> str:
    with pytest.raises(InvalidInput) as caught:
        verify_audio(data, max_bytes=max_bytes, min_seconds=min_seconds, max_seconds=max_seconds)
    assert caught.value.status == 422
    return caught.value.message


# ----------------------------------------------------------------------------- WAV


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("rate", [8000, 44100])
@pytest.mark.parametrize("seconds", [1.0, 3.5, 31.0])
def test_pcm_wav_is_measured_from_its_header(channels: int, rate: int, seconds: float) -> None:
    data = wav_bytes(seconds, rate=rate, channels=channels)
    audio = verify_audio(data, max_bytes=50 * MB)
    assert isinstance(audio, VerifiedAudio)
    assert audio.mime == "audio/wav"
    assert audio.duration == pytest.approx(seconds, abs=1e-6)
    assert (audio.sample_rate, audio.channels, audio.bytes) == (rate, channels, len(data))
    assert audio.data is data


def test_wave_format_extensible_and_float_wav_are_read_from_the_riff_header() -> None:
    audio = verify_audio(extensible_wav(3.5), max_bytes=15 * MB)
    assert (audio.mime, audio.sample_rate, audio.channels) == ("audio/wav", 48000, 2)
    assert audio.duration == pytest.approx(3.5)
    pcm = verify_audio(extensible_wav(2.0, rate=16000, channels=1, sub_format=1), max_bytes=MB)
    assert pcm.duration == pytest.approx(2.0)


def test_compressed_wav_encodings_are_refused_by_name() -> None:
    data = bytearray(wav_bytes(1.0))
    data[20:22] = struct.pack("<H", 0x0011)  # IMA ADPCM
    message = rejected(bytes(data))
    assert "IMA ADPCM" in message and "PCM" in message


@pytest.mark.parametrize("keep", [30, 44, 1000, 44 + 44100])
def test_truncated_wav_is_refused(keep: int) -> None:
    message = rejected(wav_bytes(1.0, rate=44100)[:keep])
    assert "truncated" in message


def test_truncated_wav_message_says_what_the_header_announced_and_what_is_there() -> None:
    message = rejected(wav_bytes(4.0, rate=8000)[: 44 + 8000 * 2])
    assert "4 s" in message and "1 s" in message


def test_wav_without_samples_is_refused() -> None:
    assert "no samples" in rejected(wav_bytes(0.0))


# ----------------------------------------------------------------------------- MP3


@pytest.mark.parametrize("seconds", [1.0, 3.5, 31.0])
def test_cbr_mp3_duration_is_the_sum_of_its_frames(seconds: float) -> None:
    frames = round(seconds * 44100 / 1152)
    data = mp3_frames(frames)
    assert {len(data) // frames} <= {417, 418}
    audio = verify_audio(data, max_bytes=15 * MB)
    assert audio.mime == "audio/mpeg"
    assert audio.duration == pytest.approx(seconds, rel=0.01)
    assert (audio.sample_rate, audio.channels) == (44100, 2)


def test_mp3_frame_length_follows_bitrate_and_padding() -> None:
    frames = mp3_frames(100)
    assert mp3_frames(1) == frames[:417]  # no padding on the first frame, then 418 now and then
    assert 100 * 417 < len(frames) < 100 * 418
    wrong = (mp3_header() + b"\x00" * 414) * 100  # 418-byte frames whose headers say 417
    assert "not WAV or MP3" in rejected(wrong)


def test_id3v2_tag_is_skipped() -> None:
    frames = round(5 * 44100 / 1152)
    audio = verify_audio(id3v2(4096) + mp3_frames(frames, mono=True), max_bytes=MB)
    assert audio.duration == pytest.approx(5.0, rel=0.01)
    assert audio.channels == 1


def test_other_mpeg_versions_and_rates() -> None:
    audio = verify_audio(mpeg2_frames(400), max_bytes=MB)  # 400 * 576 / 22050
    assert audio.duration == pytest.approx(400 * 576 / 22050)
    assert (audio.sample_rate, audio.channels) == (22050, 1)
    audio = verify_audio(mp3_frames(250, kbps=320, rate=48000), max_bytes=MB)
    assert audio.duration == pytest.approx(250 * 1152 / 48000)


def test_xing_info_frame_is_not_audio_and_lame_delay_and_padding_are_taken_off() -> None:
    frames = 1150  # a 30 s clip: 1 323 000 samples + 576 delay, padded up to whole frames
    padding = frames * 1152 - 1_323_000 - 576
    data = id3v2(200) + info_frame(frames, delay=576, padding=padding) + mp3_frames(frames)
    audio = verify_audio(data, max_bytes=15 * MB, min_seconds=3, max_seconds=30)
    assert audio.duration == pytest.approx(30.0, abs=1e-9)


def test_xing_frame_count_without_gapless_info() -> None:
    data = info_frame(300, tag=b"Xing") + mp3_frames(300)
    assert verify_audio(data, max_bytes=MB).duration == pytest.approx(300 * 1152 / 44100)


def test_mp3_shorter_than_its_xing_header_announces_is_truncated() -> None:
    message = rejected(info_frame(1000) + mp3_frames(500))
    assert "truncated" in message and "1000 frames" in message and "500" in message


def test_trailing_tags_and_a_cut_off_last_frame_are_tolerated() -> None:
    data = mp3_frames(200) + mp3_frames(1)[:100]
    assert verify_audio(data, max_bytes=MB).duration == pytest.approx(200 * 1152 / 44100)
    id3v1 = b"TAG" + b"\x00" * 125
    assert verify_audio(mp3_frames(200) + id3v1, max_bytes=MB).duration == pytest.approx(200 * 1152 / 44100)


def test_fewer_than_three_consecutive_frames_is_not_mp3() -> None:
    assert "not WAV or MP3" in rejected(mp3_frames(2))
    assert "not WAV or MP3" in rejected(mp3_frames(2) + b"\x00" * 500 + mp3_frames(1))
    message = rejected(id3v2(100) + mp3_frames(2))
    assert "ID3" in message and "3 consecutive" in message


def test_id3_tag_longer_than_the_file_is_truncated() -> None:
    assert "truncated" in rejected(id3v2(5000)[:3000])


# ----------------------------------------------------------------------------- refusals and limits


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        (b"hello, this is plain text and not audio at all\n" * 20, ""),
        (PNG_MAGIC, "image"),
        (b"fLaC" + b"\x00" * 100, "FLAC"),
        (b"OggS" + b"\x00" * 100, "Ogg"),
        (b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 100, "M4A"),
        (b"RIFF\x10\x00\x00\x00AVI " + b"\x00" * 100, "not WAVE"),
    ],
)
def test_other_formats_are_not_audio(data: bytes, hint: str) -> None:
    message = rejected(data)
    assert "not audio: the bytes are not WAV or MP3" in message
    assert hint in message


def test_empty_file_is_refused() -> None:
    assert "empty" in rejected(b"")


def test_size_limit_names_the_limit_and_the_size() -> None:
    message = rejected(wav_bytes(2.0), max_bytes=100 * 1024)
    assert "100 KB" in message and "172.3 KB" in message


def test_duration_limits_name_the_limit_and_the_files_value() -> None:
    too_long = rejected(wav_bytes(31.0, rate=8000), min_seconds=3, max_seconds=30)
    assert "31 s" in too_long and "3 s to 30 s" in too_long
    too_short = rejected(mp3_frames(38), min_seconds=3, max_seconds=30)
    assert "0.993 s" in too_short and "3 s to 30 s" in too_short
    assert "at least 5 s" in rejected(wav_bytes(3.5, rate=8000), min_seconds=5)
    assert "at most 600 s" in rejected(wav_bytes(601, rate=8000), max_seconds=600)
    ok = verify_audio(wav_bytes(3.5, rate=8000), max_bytes=15 * MB, min_seconds=3, max_seconds=30)
    assert ok.duration == pytest.approx(3.5)


def test_exact_limits_are_accepted() -> None:
    verify_audio(wav_bytes(30.0, rate=8000), max_bytes=15 * MB, min_seconds=3, max_seconds=30)
    verify_audio(wav_bytes(3.0, rate=8000), max_bytes=15 * MB, min_seconds=3, max_seconds=30)


@settings(max_examples=300)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_are_refused_cleanly_or_accepted(data: bytes) -> None:
    with contextlib.suppress(InvalidInput):
        verify_audio(data, max_bytes=MB)


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=12_000), st.sampled_from(["wav", "ext", "mp3", "xing"]))
def test_any_cut_of_a_valid_file_is_refused_cleanly_or_measured(cut: int, kind: str) -> None:
    whole = {
        "wav": wav_bytes(0.5, rate=8000),
        "ext": extensible_wav(0.05),
        "mp3": id3v2(50) + mp3_frames(25),
        "xing": info_frame(20, delay=576, padding=100) + mp3_frames(20),
    }[kind]
    try:
        audio = verify_audio(whole[:cut], max_bytes=MB)
    except InvalidInput:
        return
    assert 0 < audio.duration <= 0.66


# ----------------------------------------------------------------------------- inline


def test_inline_audio_as_data_url_or_raw_base64() -> None:
    data = wav_bytes(1.0, rate=8000)
    encoded = base64.b64encode(data).decode()
    assert decode_inline_audio(f"data:audio/wav;base64,{encoded}", max_bytes=MB) == data
    assert decode_inline_audio(encoded, max_bytes=MB) == data
    urlsafe = base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert decode_inline_audio(f"  {urlsafe[:40]}\n{urlsafe[40:]}  ", max_bytes=MB) == data
    assert decode_inline_audio(f"data:audio/mpeg;base64,{encoded}", max_bytes=MB) == data


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("data:image/png;base64,AAAA", "not an audio type"),
        ("data:audio/wav,AAAA", "not base64-encoded"),
        ("data:audio/wav;base64", "no comma"),
        ("", "empty"),
        ("AAAA*AAA", "unexpected character '*'"),
        ("AAAAA", "cut short"),
    ],
)
def test_bad_inline_audio_is_refused(value: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_inline_audio(value, max_bytes=MB)
    assert expected in caught.value.message


def test_inline_audio_over_the_limit_is_refused_before_decoding() -> None:
    encoded = base64.b64encode(b"\x00" * 3000).decode()
    with pytest.raises(InvalidInput) as caught:
        decode_inline_audio(encoded, max_bytes=2048)
    assert "2 KB" in caught.value.message and "at least" in caught.value.message
