"""The face detector on real photographs shipped inside scikit-image, and on images with no face."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image
from skimage import data

from imagestudio.imaging import faces
from imagestudio.imaging.faces import FaceBox, HaarDetector, RekognitionDetector, detect_faces


def astronaut() -> Image.Image:
    return Image.fromarray(data.astronaut())


def test_finds_the_astronauts_face_where_it_is() -> None:
    found = detect_faces(astronaut())
    assert found, "no face found in the astronaut photograph"
    best = found[0]
    # Eileen Collins' face sits around x 180..270, y 60..170 of the 512x512 photograph
    cx, cy = best.center
    assert 190 < cx < 260 and 80 < cy < 150
    assert 60 < best.width < 160 and best.width == best.height
    assert 0 < best.score <= 1


def test_boxes_follow_the_image_scale() -> None:
    small = detect_faces(astronaut())[0]
    big = detect_faces(astronaut().resize((1536, 1536)))[0]
    assert abs(big.center[0] - 3 * small.center[0]) < 30
    assert abs(big.width - 3 * small.width) < 45


def test_no_face_in_a_cat_a_coffee_or_a_flat_image() -> None:
    assert detect_faces(Image.fromarray(data.coffee())) == []
    assert detect_faces(Image.new("RGB", (640, 480), (40, 120, 200))) == []


def test_several_faces_sorted_best_first() -> None:
    lfw = np.load(data.__path__[0] + "/lfw_subset.npy")  # 25x25 crops of Labeled Faces in the Wild
    group = Image.new("L", (900, 340), 128)
    for i, index in enumerate((0, 1, 2)):
        face = Image.fromarray((lfw[index] * 255).astype("uint8")).resize(
            (200 + 40 * i,) * 2, Image.Resampling.BICUBIC
        )
        group.paste(face, (40 + 290 * i, 40))
    found = detect_faces(group)
    assert len(found) == 3
    scores = [(b.score, b.area) for b in found]
    assert scores == sorted(scores, reverse=True)
    assert sorted(round(b.center[0] / 290) for b in found) == [0, 1, 2]


def test_no_detector_means_no_faces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faces, "default_detector", lambda: None)
    assert detect_faces(astronaut()) == []


class _FakeRekognition:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def detect_faces(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {
            "FaceDetails": [
                {"BoundingBox": {"Left": 0.5, "Top": 0.25, "Width": 0.1, "Height": 0.2}, "Confidence": 91.0},
                {"BoundingBox": {"Left": -0.05, "Top": 0.1, "Width": 0.3, "Height": 0.4}, "Confidence": 99.5},
                {"BoundingBox": {"Left": 0.8, "Top": 0.8, "Width": 0.1, "Height": 0.1}, "Confidence": 40.0},
            ]
        }


def test_rekognition_boxes_become_pixels_clipped_and_sorted() -> None:
    client = _FakeRekognition()
    found = RekognitionDetector(client).detect(Image.new("RGB", (4000, 1000)))
    assert found == [FaceBox(0, 100, 1000, 400, 0.995), FaceBox(2000, 250, 400, 200, 0.91)]
    sent = Image.open(io.BytesIO(client.calls[0]["Image"]["Bytes"]))
    assert sent.format == "JPEG" and max(sent.size) == faces.REKOGNITION_MAX_SIDE


def test_use_rekognition_switches_the_default() -> None:
    client = _FakeRekognition()
    faces.use_rekognition(client)
    try:
        assert isinstance(faces.default_detector(), RekognitionDetector)
        assert detect_faces(Image.new("RGB", (100, 100)))[0].score == 0.995
    finally:
        faces.use_rekognition(None)
    assert isinstance(faces.default_detector(), HaarDetector)
