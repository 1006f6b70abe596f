"""Fitting requested sizes to what models accept: same aspect ratio, within the bounds, rounded."""

from __future__ import annotations

import math

import pytest

from imagestudio.providers.sizing import nearest_accepted_size, nearest_aspect_ratio


def ratio_error(size: tuple[int, int], width: int, height: int) -> float:
    return abs(math.log((size[0] / size[1]) / (width / height)))


def test_a_size_that_already_fits_comes_back_unchanged() -> None:
    assert nearest_accepted_size(1024, 768, max_side=1024, multiple=8) == (1024, 768)
    assert nearest_accepted_size(1080, 1080, multiple=8) == (1080, 1080)


def test_scales_down_to_the_longest_side_keeping_the_ratio() -> None:
    assert nearest_accepted_size(1920, 1080, max_side=1024, multiple=16) == (1024, 576)
    assert nearest_accepted_size(1080, 1920, max_side=1024, multiple=8) == (576, 1024)


def test_scales_down_to_a_pixel_budget() -> None:
    width, height = nearest_accepted_size(4000, 3000, max_pixels=1_048_576, multiple=8)
    assert width * height <= 1_048_576
    assert ratio_error((width, height), 4000, 3000) < 0.01
    assert width * height > 0.97 * 1_048_576


def test_scales_up_to_a_minimum_and_never_below_it() -> None:
    assert nearest_accepted_size(1080, 1080, min_pixels=1920 * 1920, max_pixels=4096 * 4096) == (1920, 1920)
    width, height = nearest_accepted_size(1200, 628, min_pixels=1920 * 1920, max_side=4096, multiple=8)
    assert width * height >= 1920 * 1920 and max(width, height) <= 4096
    assert ratio_error((width, height), 1200, 628) < 0.01
    assert nearest_accepted_size(100, 50, min_side=256, multiple=16) == (512, 256)


def test_rounds_to_the_multiple_within_bounds() -> None:
    width, height = nearest_accepted_size(1200, 628, max_side=1024, multiple=16)
    assert width % 16 == 0 and height % 16 == 0
    assert width <= 1024 and height <= 1024
    assert ratio_error((width, height), 1200, 628) < 0.02
    assert nearest_accepted_size(5, 3, multiple=8) == (8, 8)  # never a zero side


def test_bounds_that_cannot_all_hold_still_answer_something_close() -> None:
    width, height = nearest_accepted_size(4000, 100, max_side=1024, min_side=256, multiple=8)
    assert width > 0 and height > 0


def test_an_allowed_list_picks_the_closest_ratio_then_the_closest_area() -> None:
    allowed = [(1024, 1024), (1344, 768), (768, 1344), (1536, 640), (2048, 2048)]
    assert nearest_accepted_size(1920, 1080, allowed=allowed) == (1344, 768)
    assert nearest_accepted_size(1080, 1920, allowed=allowed) == (768, 1344)
    assert nearest_accepted_size(900, 900, allowed=allowed) == (1024, 1024)
    assert nearest_accepted_size(3000, 3000, allowed=allowed) == (2048, 2048)


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (1920, 1080, "16:9"),
        (1080, 1920, "9:16"),
        (1080, 1350, "3:4"),
        (1200, 628, "16:9"),
        (1000, 1000, "1:1"),
        (1600, 1200, "4:3"),
    ],
)
def test_nearest_aspect_ratio(width: int, height: int, expected: str) -> None:
    assert nearest_aspect_ratio(width, height, ["1:1", "3:4", "4:3", "9:16", "16:9"]) == expected


def test_nearest_aspect_ratio_accepts_decimal_labels() -> None:
    assert nearest_aspect_ratio(1200, 628, ["1:1", "1.91:1", "16:9"]) == "1.91:1"


def test_invalid_input_is_refused() -> None:
    with pytest.raises(ValueError):
        nearest_accepted_size(0, 100)
    with pytest.raises(ValueError):
        nearest_aspect_ratio(100, 100, [])
    with pytest.raises(ValueError):
        nearest_accepted_size(100, 100, multiple=0)
