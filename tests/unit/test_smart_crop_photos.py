"""The smart crop on real photographs (scikit-image's, hand-labelled in benchmarks/smartcrop.py) and on
issue 16's red disc: the subject stays in the formats, faces first, banners on the subject's core."""

from __future__ import annotations

import pytest
from PIL import Image

from benchmarks.smartcrop import PHOTOS, Photo, Score, libvips_crops, red_disc, score_photo, smart_crops
from imagestudio.imaging import saliency
from imagestudio.imaging.faces import FaceBox, default_detector
from imagestudio.imaging.social import Prepared, Target, catalog_targets, cover_box, plan_crops

TARGETS = catalog_targets()
BY_NAME = {p.name: p for p in PHOTOS}


def banner() -> Target:
    (cover,) = [t for t in TARGETS if t.format_name == "Company Cover"]
    assert cover.width / cover.height > 5.5  # LinkedIn's 1128x191
    return cover


def test_the_red_disc_of_issue_16_is_the_subject_and_the_linkedin_cover_shows_it() -> None:
    image = red_disc()  # 3000x2000, disc at 80% across, 30% down (rows 400-800), a hard edge at x=900
    subject = saliency.detect_subject(image)
    assert subject is not None
    left, top, right, bottom = subject.pixels(*image.size)
    assert left >= 2100 and right <= 2700 and top >= 300 and bottom <= 900  # the disc, not the edge
    crops, _ = smart_crops(image, [banner()])
    (_, crop_top, _, crop_bottom) = crops[0]
    assert crop_bottom - crop_top == pytest.approx(3000 * 191 / 1128)  # 508 rows: the disc's 400 do fit
    assert crop_top <= 400 and crop_bottom >= 800


def test_the_astronauts_face_is_found_and_kept_in_every_format_that_can_hold_it() -> None:
    photo = BY_NAME["astronaut"]
    image = photo.load()
    crops, subject = smart_crops(image, TARGETS)
    assert subject is not None and subject.faces == 1
    fx0, fy0, fx1, fy1 = photo.core  # the face, drawn by hand
    for target, (left, top, right, bottom) in zip(TARGETS, crops, strict=True):
        if bottom - top >= fy1 - fy0:
            assert left <= fx0 and fx1 <= right and top <= fy0 and fy1 <= bottom, target
        else:  # a banner thinner than the face: on the face, never on the suit below it
            assert fy0 <= top and bottom <= fy1, target
    centre = cover_box(image.size, (banner().width, banner().height))
    assert not fy0 <= centre[1] <= fy1  # where a plain centre crop would have cut


def test_a_face_grows_to_the_person_it_belongs_to_and_stays_the_core() -> None:
    photo = BY_NAME["astronaut"]
    image = photo.load()
    _, subject = smart_crops(image, TARGETS)
    assert subject is not None and subject.faces == 1 and subject.core is not None
    w, h = image.size
    core = (subject.core[0] * w, subject.core[1] * h, subject.core[2] * w, subject.core[3] * h)
    fx0, fy0, fx1, fy1 = photo.core  # the face, drawn by hand: the core is still the face
    assert fx0 - 20 <= core[0] and core[2] <= fx1 + 20 and fy0 - 20 <= core[1] and core[3] <= fy1 + 20
    x0, y0, x1, y1 = subject.pixels(w, h)  # the person, down to the frame's foot, not head and shoulders
    px0, py0, px1, py1 = photo.subject
    covered = max(0.0, min(x1, px1) - max(x0, px0)) * max(0.0, min(y1, py1) - max(y0, py0))
    assert covered >= 0.9 * (px1 - px0) * (py1 - py0)
    assert y1 >= h - 10


def _core_pixels(photo: Photo) -> tuple[saliency.Subject, tuple[float, float, float, float]]:
    image = photo.load()
    _, subject = smart_crops(image, TARGETS)
    assert subject is not None and subject.core is not None
    w, h = image.size
    x0, y0, x1, y1 = subject.core
    return subject, (x0 * w, y0 * h, x1 * w, y1 * h)


def test_the_cameramans_face_seen_side_on_is_found_and_is_the_core() -> None:
    # the frontal cascade alone misses it (he looks into his camera); deployed, DetectFaces finds it
    subject, core = _core_pixels(BY_NAME["camera"])
    assert subject.faces >= 1
    hx0, hy0, hx1, hy1 = BY_NAME["camera"].core  # his head, drawn by hand
    assert (
        abs(core[0] - hx0) <= 25
        and abs(core[1] - hy0) <= 25
        and abs(core[2] - hx1) <= 25
        and abs(core[3] - hy1) <= 25
    )


def test_the_cats_core_is_its_eyes_and_nose_not_the_stripes_of_its_forehead() -> None:
    # the core is where the subject's colour stands out from its own: green eyes and a pink nose in fur
    subject, (x0, y0, x1, y1) = _core_pixels(BY_NAME["chelsea"])
    assert subject.faces == 0
    for x, y in ((172, 120), (318, 135), (250, 235)):  # left eye, right eye, nose
        assert x0 <= x <= x1 and y0 <= y <= y1
    assert y0 >= 65  # below the stripes (the saliency's densest part reached up to row 52)


# Formats (of 20) in which each photo keeps its subject (else its core), as measured when written: the
# test fails when a change loses the subject in more of them. Known misses (README): the coffee cup's
# subject leaves out the saucer, the rocket's core takes the lights at its foot, the motorcycle's saliency
# spreads over the whole garage (no subject: a centre crop), and nothing tells a silhouette's head from
# its body.
KEPT_AT_LEAST = {
    "astronaut": 20,
    "astronaut, off-centre": 19,
    "camera": 19,
    "camera, off-centre": 19,
    "chelsea": 20,
    "coffee": 14,
    "rocket": 17,
    "motorcycle": 12,
    "coffee, off-centre": 20,
    "clock": 20,
    "horse": 1,
    "red disc (issue 16)": 20,
}
BEATS_CENTRE = set(KEPT_AT_LEAST) - {"horse"}


def _scores(photo: Photo) -> tuple[Score, Score, Score, Score]:
    """(ours kept, ours safe, centre kept, centre safe) over all formats."""
    image = photo.load()
    ours, _ = smart_crops(image, TARGETS)
    centre = [cover_box(image.size, (t.width, t.height)) for t in TARGETS]
    return (*score_photo(image, photo, ours, TARGETS), *score_photo(image, photo, centre, TARGETS))


@pytest.mark.parametrize("photo", PHOTOS, ids=[p.name for p in PHOTOS])
def test_on_each_photo_the_smart_crop_keeps_the_subject_in_as_many_formats_as_measured(photo: Photo) -> None:
    ours, _ours_safe, centre, _centre_safe = _scores(photo)
    assert ours.m == len(TARGETS)  # every format's crop can hold the subject or lie on its core
    assert ours.n >= KEPT_AT_LEAST[photo.name]
    if photo.name in BEATS_CENTRE:
        assert ours.n >= centre.n


def test_over_all_photographs_the_subject_is_kept_and_safe_far_more_often_than_by_centre_crops() -> None:
    totals = [Score() for _ in range(4)]
    for photo in PHOTOS:
        for total, score in zip(totals, _scores(photo), strict=True):
            total += score
    ours, ours_safe, centre, centre_safe = totals
    assert ours.m == len(TARGETS) * len(PHOTOS)
    assert ours.n >= 198 and centre.n <= 105  # of 240: 201 and 103 when written
    assert ours_safe.m == centre_safe.m  # the same formats can (the crop sizes are the same)
    assert ours_safe.n >= 105 and centre_safe.n <= 60  # of 124: 109 and 54 when written


def test_over_all_photographs_ours_keeps_the_subject_more_often_than_libvips_attention_crop() -> None:
    pytest.importorskip("pyvips")  # dev-only (the 3.12 unit run has no libvips)
    ours, theirs, ours_safe, theirs_safe = Score(), Score(), Score(), Score()
    for photo in PHOTOS:
        image = photo.load()
        crops, _ = smart_crops(image, TARGETS)
        kept, safe = score_photo(image, photo, crops, TARGETS)
        their_kept, their_safe = score_photo(image, photo, libvips_crops(image, TARGETS), TARGETS)
        ours += kept
        ours_safe += safe
        theirs += their_kept
        theirs_safe += their_safe
    assert theirs.m == ours.m == len(TARGETS) * len(PHOTOS)
    assert ours.n >= theirs.n + 40 and ours_safe.n >= theirs_safe.n + 25  # 201 vs 151, 109 vs 76 when written


def test_opencv_is_the_offline_face_detector() -> None:
    detector = default_detector()
    assert detector is not None and detector.name == "opencv-haar"


class _Detector:
    """Stands in for Rekognition: answers the faces it was given, or fails like a throttled call."""

    name = "test"

    def __init__(self, faces: list[FaceBox] | None) -> None:
        self.faces = faces
        self.sizes: list[tuple[int, int]] = []

    def detect(self, image: Image.Image) -> list[FaceBox]:
        self.sizes.append(image.size)
        if self.faces is None:
            raise RuntimeError("ThrottlingException")
        return self.faces


def _prepared(image: Image.Image, detector: _Detector) -> Prepared:
    return Prepared.from_image(image, detector)


def test_a_face_from_the_detector_becomes_the_core_every_crop_holds() -> None:
    image = red_disc().resize((1500, 1000))
    # a face the detector reports far from the salient disc, on a 640-wide copy: scaled back to pixels
    detector = _Detector([FaceBox(left=60, top=250, width=60, height=60, score=0.99)])
    prepared = _prepared(image, detector)
    subject = prepared.subject()
    assert detector.sizes == [(640, 427)]
    assert subject is not None and subject.faces == 1
    face = (60 * 1500 / 640, 250 * 1000 / 427, 120 * 1500 / 640, 310 * 1000 / 427)
    for target, (left, top, right, bottom) in zip(TARGETS, plan_crops(prepared, TARGETS), strict=True):
        assert left <= face[0] and face[2] <= right, target
        if bottom - top >= face[3] - face[1]:
            assert top <= face[1] and face[3] <= bottom, target


def test_a_failing_face_detector_falls_back_to_saliency() -> None:
    image = red_disc().resize((1500, 1000))
    subject = _prepared(image, _Detector(None)).subject()
    assert subject is not None and subject.faces == 0
    left, top, right, bottom = subject.pixels(*image.size)
    assert left >= 1050 and right <= 1350 and top >= 150 and bottom <= 450  # the disc
