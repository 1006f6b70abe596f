"""Find faces in an image: one small protocol, two detectors, and nothing when neither is available.

- `HaarDetector`: OpenCV's frontal-face and profile Haar cascades, the XML files that ship inside
  ``opencv-python-headless`` (``cv2.data.haarcascades``); the profile one on the picture and on its
  mirror image (it knows faces turned one way only). Offline only: OpenCV is too big for the
  Lambda layer, so it is a development dependency and the import is guarded.
- `RekognitionDetector`: Amazon Rekognition ``DetectFaces`` through boto3 (deployed). Boxes come back
  as fractions of the image; they are turned into pixels here.
- `detect_faces(image)` uses the detector `default_detector()` picks (Rekognition when asked for by
  `use_rekognition`, else OpenCV when importable) and answers an empty list when there is none.

Boxes are in the pixels of the image given (as displayed: apply EXIF orientation before calling),
sorted best first: by score, then by area.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from PIL import Image

log = logging.getLogger(__name__)

# Faces smaller than this fraction of the shorter side are noise for every use we have (crops, swaps).
MIN_FACE_FRACTION = 0.04
# Rekognition takes at most 15 MB of bytes and 80x80 faces at 1920 px: send a JPEG at most this wide.
REKOGNITION_MAX_SIDE = 1920


@dataclass(frozen=True)
class FaceBox:
    """A face's bounding box in pixels and the detector's confidence (0..1)."""

    left: int
    top: int
    width: int
    height: int
    score: float

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    @property
    def center(self) -> tuple[float, float]:
        return (self.left + self.width / 2, self.top + self.height / 2)

    @property
    def area(self) -> int:
        return self.width * self.height


class FaceDetector(Protocol):
    name: str

    def detect(self, image: Image.Image) -> list[FaceBox]: ...


def _sorted(boxes: list[FaceBox]) -> list[FaceBox]:
    return sorted(boxes, key=lambda b: (-round(b.score, 3), -b.area, b.left, b.top))


def _overlap(a: FaceBox, b: FaceBox) -> float:
    """Intersection over the smaller box: 1.0 when one box sits inside the other."""
    w = min(a.right, b.right) - max(a.left, b.left)
    h = min(a.bottom, b.bottom) - max(a.top, b.top)
    if w <= 0 or h <= 0:
        return 0.0
    return (w * h) / min(a.area, b.area)


class HaarDetector:
    """OpenCV's bundled frontal-face and profile cascades (a face seen side on, a photographer at his
    camera, is still the subject); the score is how many neighbouring detections agreed."""

    name = "opencv-haar"

    def __init__(self, cv2: Any) -> None:
        self._cv2 = cv2
        self._cascades = [self._load(name) for name in ("frontalface_default", "profileface")]

    def _load(self, name: str) -> Any:
        path = self._cv2.data.haarcascades + f"haarcascade_{name}.xml"
        cascade = self._cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"the Haar cascade at {path} could not be loaded")
        return cascade

    def detect(self, image: Image.Image) -> list[FaceBox]:
        import numpy as np

        cv2 = self._cv2
        gray = image.convert("L")
        scale = 1.0
        longest = max(gray.size)
        if longest > 1024:  # the cascade's cost grows with the pixels; faces we care about stay big enough
            scale = 1024 / longest
            gray = gray.resize((max(1, round(gray.width * scale)), max(1, round(gray.height * scale))))
        pixels = cv2.equalizeHist(np.asarray(gray))
        min_side = max(20, int(min(gray.size) * MIN_FACE_FRACTION))
        frontal, profile = self._cascades
        boxes: list[FaceBox] = []
        for cascade, mirrored in ((frontal, False), (profile, False), (profile, True)):
            seen = np.ascontiguousarray(pixels[:, ::-1]) if mirrored else pixels
            rects, _levels, weights = cascade.detectMultiScale3(
                seen, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side), outputRejectLevels=True
            )
            for (x, y, w, h), weight in zip(rects, weights, strict=False):
                left = gray.width - x - w if mirrored else x
                boxes.append(
                    FaceBox(
                        left=round(left / scale),
                        top=round(y / scale),
                        width=round(w / scale),
                        height=round(h / scale),
                        # the cascade's level weight is unbounded: squash it onto 0..1 (5 is a sure face)
                        score=round(float(min(1.0, max(0.0, float(weight) / 5.0))), 4),
                    )
                )
        kept: list[FaceBox] = []
        for box in _sorted(boxes):
            if all(_overlap(box, other) < 0.5 for other in kept):
                kept.append(box)
        return kept


class RekognitionDetector:
    """Amazon Rekognition DetectFaces (deployed). `client` is a boto3 ``rekognition`` client."""

    name = "rekognition"

    def __init__(self, client: Any, *, min_confidence: float = 80.0) -> None:
        self._client = client
        self._min_confidence = min_confidence

    def detect(self, image: Image.Image) -> list[FaceBox]:
        sent = image.convert("RGB")
        if max(sent.size) > REKOGNITION_MAX_SIDE:
            sent.thumbnail((REKOGNITION_MAX_SIDE, REKOGNITION_MAX_SIDE))
        buffer = io.BytesIO()
        sent.save(buffer, "JPEG", quality=90)
        answer = self._client.detect_faces(Image={"Bytes": buffer.getvalue()}, Attributes=["DEFAULT"])
        width, height = image.size
        boxes: list[FaceBox] = []
        for face in answer.get("FaceDetails", []):
            confidence = float(face.get("Confidence", 0.0))
            if confidence < self._min_confidence:
                continue
            box = face["BoundingBox"]  # fractions of the image, may reach past its edges
            left = max(0, round(float(box["Left"]) * width))
            top = max(0, round(float(box["Top"]) * height))
            right = min(width, round((float(box["Left"]) + float(box["Width"])) * width))
            bottom = min(height, round((float(box["Top"]) + float(box["Height"])) * height))
            if right - left < 2 or bottom - top < 2:
                continue
            boxes.append(FaceBox(left, top, right - left, bottom - top, round(confidence / 100.0, 4)))
        return _sorted(boxes)


@lru_cache(maxsize=1)
def _haar() -> HaarDetector | None:
    try:
        import cv2
    except ImportError:
        return None
    try:
        return HaarDetector(cv2)
    except Exception as err:  # a broken OpenCV install: no detector, said once in the log
        log.warning("OpenCV is installed but its face cascade did not load: %s", err)
        return None


_rekognition: RekognitionDetector | None = None


def use_rekognition(client: Any | None) -> None:
    """Make `detect_faces` use Rekognition through `client` (deployed); None goes back to OpenCV."""
    global _rekognition
    _rekognition = RekognitionDetector(client) if client is not None else None


def default_detector() -> FaceDetector | None:
    """Rekognition when configured, else OpenCV's cascade when importable, else None."""
    if _rekognition is not None:
        return _rekognition
    return _haar()


def detect_faces(image: Image.Image, detector: FaceDetector | None = None) -> list[FaceBox]:
    """The faces in `image`, best first; an empty list when no face is found or no detector is available."""
    chosen = detector if detector is not None else default_detector()
    if chosen is None:
        return []
    return chosen.detect(image)
