"""decode_inline_image: images sent as base64 in a JSON body."""

from __future__ import annotations

import base64
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from imagestudio.errors import InvalidInput
from imagestudio.imaging import DEFAULT_INLINE_MAX_BYTES, decode_inline_image, verify_image


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), (0, 128, 255)).save(buffer, "PNG")
    return buffer.getvalue()


def rejection(value: str, **limits: int) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        decode_inline_image(value, **limits)
    assert caught.value.status == 422
    return caught.value


def test_a_data_url_from_a_browser_decodes_to_the_image() -> None:
    png = png_bytes()
    url = "data:image/png;base64," + base64.b64encode(png).decode()

    assert decode_inline_image(url) == png
    assert verify_image(decode_inline_image(url)).width == 30


def test_raw_base64_with_line_breaks_and_no_padding_decodes() -> None:
    png = png_bytes()
    text = base64.encodebytes(png).decode().rstrip("=\n")  # 76-column lines, padding lost
    assert "\n" in text

    assert decode_inline_image("  " + text + "\r\n") == png


def test_url_safe_base64_and_an_upper_case_data_scheme_decode() -> None:
    data = bytes(range(256))
    url = "DATA:Image/PNG;charset=binary;Base64," + base64.urlsafe_b64encode(data).decode()

    assert decode_inline_image(url) == data


@given(st.binary(min_size=1, max_size=300), st.data())
def test_any_payload_survives_whitespace_and_lost_padding(payload: bytes, draw: st.DataObject) -> None:
    text = base64.b64encode(payload).decode().rstrip("=")
    cut = draw.draw(st.integers(min_value=0, max_value=len(text)))
    gap = draw.draw(st.sampled_from([" ", "\n", "\r\n", "\t", "  \n "]))

    assert decode_inline_image(text[:cut] + gap + text[cut:]) == payload


def test_bad_base64_says_where_it_goes_wrong() -> None:
    err = rejection("iVBORw0KGgo*AAAA")

    assert err.message.startswith(
        "The inline image is not valid base64: unexpected character '*' at position 11"
    )
    assert "data:image/png;base64," in err.message


def test_base64_cut_to_an_impossible_length_is_rejected() -> None:
    text = base64.b64encode(png_bytes()).decode()
    cut = text[: len(text) // 4 * 4 - 3]  # 4k + 1 characters: no base64 text is that long

    err = rejection(cut)

    assert "not valid base64" in err.message and "cut short" in err.message


def test_padding_in_the_middle_is_rejected() -> None:
    assert "not valid base64" in rejection("aGVs=bG8=").message


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("", "The inline image is empty"),
        ("data:image/png;base64,", "The inline image is empty"),
        ("data:image/png,%89PNG", "The data URL is not base64-encoded"),
        ("data:image/png;base64", "The data URL has no comma"),
        ("data:text/plain;base64,aGVsbG8=", "The data URL declares 'text/plain', which is not an image type"),
    ],
)
def test_malformed_data_urls_say_what_to_send(value: str, complaint: str) -> None:
    assert rejection(value).message.startswith(complaint)


def test_too_big_names_the_limit_and_the_uploads_route() -> None:
    text = base64.b64encode(b"\x00" * 3000).decode()

    err = rejection(text, max_bytes=2048)

    assert err.message.startswith("The inline image is at least 2.9 KB once decoded")
    assert "inline images are limited to 2 KB" in err.message
    assert "POST /api/image-studio/uploads" in err.message
    assert err.details["max_bytes"] == 2048


def test_the_default_limit_is_7_mb_and_is_checked_before_decoding() -> None:
    assert DEFAULT_INLINE_MAX_BYTES == 7 * 1024 * 1024
    too_big = "A" * (DEFAULT_INLINE_MAX_BYTES // 3 * 4 + 8)  # decodes to just over 7 MB
    exactly = base64.b64encode(b"\x01" * DEFAULT_INLINE_MAX_BYTES).decode()

    assert "limited to 7 MB" in rejection(too_big).message
    assert len(decode_inline_image(exactly)) == DEFAULT_INLINE_MAX_BYTES
