"""The face-swap pre-charge check and the offline face swap, on real photographs (scikit-image's
astronaut and faces from Labeled Faces in the Wild shipped in its data module)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage import data

from imagestudio.errors import InvalidInput
from imagestudio.imaging import faceswap
from imagestudio.imaging.faces import FaceBox, detect_faces
from imagestudio.imaging.faceswap import check_faces, face_crop, largest_first, swap_face
from imagestudio.providers.base import FaceSwapRequest, Media, Succeeded
from imagestudio.providers.local import LocalProvider
from tests.images import encode

LFW = np.load(data.__path__[0] + "/lfw_subset.npy")  # 25x25 grey faces


def lfw_face(index: int, side: int = 200) -> Image.Image:
    """One person's face, upscaled, on a grey card: a 'face image' as a user would upload."""
    face = Image.fromarray((LFW[index] * 255).astype("uint8")).resize((side, side), Image.Resampling.BICUBIC)
    card = Image.new("L", (side + 100, side + 100), 128)
    card.paste(face, (50, 50))
    return card.convert("RGB")


def group(indexes: tuple[int, ...] = (0, 2, 3), sizes: tuple[int, ...] = (240, 200, 160)) -> Image.Image:
    photo = Image.new("RGB", (900, 360), (128, 128, 128))
    for i, (index, side) in enumerate(zip(indexes, sizes, strict=True)):
        face = Image.fromarray((LFW[index] * 255).astype("uint8")).resize(
            (side, side), Image.Resampling.BICUBIC
        )
        photo.paste(face.convert("RGB"), (20 + 300 * i, 40))
    return photo


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return Image.fromarray(data.astronaut())


def correlation(a: Image.Image, b: Image.Image) -> float:
    x = np.asarray(a.convert("L"), dtype=float).ravel()
    y = np.asarray(b.convert("L").resize(a.size), dtype=float).ravel()
    return float(np.corrcoef(x, y)[0, 1])


def inner(box: FaceBox, fraction: float = 0.5) -> tuple[int, int, int, int]:
    cx, cy = box.center
    half_w, half_h = box.width * fraction / 2, box.height * fraction / 2
    return round(cx - half_w), round(cy - half_h), round(cx + half_w), round(cy + half_h)


# ----------------------------------------------------------------------------- the pre-charge check


def test_a_face_image_with_no_face_is_refused_before_any_charge(astronaut: Image.Image) -> None:
    with pytest.raises(InvalidInput) as err:
        check_faces(astronaut, Image.fromarray(data.coffee()))
    assert err.value.status == 422 and err.value.details == {"field": "face_image", "faces_found": 0}
    assert "No face was found in the face image" in err.value.message


def test_a_base_image_with_too_few_faces_is_refused_with_the_faces_found(astronaut: Image.Image) -> None:
    with pytest.raises(InvalidInput) as err:
        check_faces(astronaut, lfw_face(0), target_index=1)
    assert err.value.details["faces_found"] == 1 and err.value.details["field"] == "target_index"
    assert "target_index 1 needs at least 2" in err.value.message and "from 0 to 0" in err.value.message
    with pytest.raises(InvalidInput, match="shows no face"):
        check_faces(Image.fromarray(data.coffee()), lfw_face(0))
    with pytest.raises(InvalidInput, match="between 0 and 10"):
        check_faces(astronaut, lfw_face(0), target_index=11)


def test_faces_are_counted_largest_first_as_wavespeed_counts_them() -> None:
    check = check_faces(group(sizes=(160, 240, 200)), lfw_face(1), target_index=0)
    assert [round(b.width / 40) for b in check.base_faces] == [6, 5, 4]  # about 240, 200, 160 px
    assert check.target is not None and 320 < check.target.center[0] < 620  # the middle face is the largest
    assert largest_first(list(reversed(check.base_faces))) == check.base_faces


def test_without_a_detector_the_check_is_skipped_and_says_so(
    astronaut: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(faceswap, "default_detector", lambda: None)
    check = check_faces(astronaut, lfw_face(0))
    assert check.skipped and check.target is None and "not checked" in check.notes[0]


# ----------------------------------------------------------------------------- the offline swap


@pytest.mark.parametrize("blend", ["seamless-clone", "feathered-alpha"])
def test_the_face_really_moves(astronaut: Image.Image, blend: str) -> None:
    source = lfw_face(1)
    result = swap_face(astronaut, source, blend=blend)  # type: ignore[arg-type]
    assert result.blend == blend and result.image.size == astronaut.size
    target = result.target
    region = inner(target)
    before, after = astronaut.crop(region), result.image.crop(region)
    source_face = source.crop(inner(result.source))
    # the middle of the face now looks like the other person (turned and scaled onto the astronaut's
    # eyes, so not pixel for pixel), and no longer like the astronaut
    assert correlation(after, source_face) > 0.4
    assert correlation(after, source_face) > correlation(before, source_face) + 0.25
    assert correlation(after, before) < 0.7
    # away from the face nothing changed
    far = (0, 300, 512, 512)
    assert np.array_equal(np.asarray(astronaut.crop(far)), np.asarray(result.image.crop(far)))
    # and there is still a face where the old one was
    found = detect_faces(result.image)
    assert any(
        abs(b.center[0] - target.center[0]) < 20 and abs(b.center[1] - target.center[1]) < 20 for b in found
    )


def test_eyes_align_the_face_when_both_faces_show_them(astronaut: Image.Image) -> None:
    result = swap_face(astronaut, lfw_face(1))
    assert result.aligned_by == "eyes"
    assert "aligned by eyes" in result.notes[-1]


def test_the_chosen_face_of_a_group_is_replaced_and_the_others_are_not(astronaut: Image.Image) -> None:
    photo = group()
    check = check_faces(photo, astronaut, target_index=1)
    result = swap_face(photo, astronaut, target_index=1, check=check)
    boxes = check.base_faces
    changed = [
        float(
            np.abs(
                np.asarray(photo.crop(inner(b)), float) - np.asarray(result.image.crop(inner(b)), float)
            ).mean()
        )
        for b in boxes
    ]
    assert changed[1] > 15 and changed[0] < 1 and changed[2] < 1
    # the astronaut's colours came with her face's gradients: the grey face is tinted now
    r, g, b = (
        band.mean() for band in np.asarray(result.image.crop(inner(boxes[1])), float).transpose(2, 0, 1)
    )
    assert max(r, g, b) - min(r, g, b) < 40  # colours follow the base photo (grey), not the source (skin)


def test_face_crop_keeps_a_margin_inside_the_image(astronaut: Image.Image) -> None:
    box = detect_faces(astronaut)[0]
    crop = face_crop(astronaut, box)
    assert crop.width > box.width and crop.height > box.height
    assert face_crop(astronaut, FaceBox(0, 0, 100, 100, 1.0)).size == (130, 130)


def test_the_offline_provider_swaps_and_refuses_like_the_check(astronaut: Image.Image) -> None:
    provider = LocalProvider(async_jobs=False)
    base = Media(data=encode(astronaut, "PNG"), mime="image/png", width=512, height=512)
    face = Media(data=encode(lfw_face(1), "JPEG"), mime="image/jpeg")
    result = provider.face_swap(
        FaceSwapRequest(image=base, face_image=face, model="local-pillow", output_format="png")
    )
    assert isinstance(result, Succeeded)
    (output,) = result.outputs
    assert output.mime == "image/png" and output.data is not None
    assert output.extra["target_face"] == {"left": 177, "top": 67, "width": 93, "height": 93}
    swapped = Image.open(io.BytesIO(output.data)).convert("RGB")
    region = inner(FaceBox(177, 67, 93, 93, 1.0))
    assert correlation(swapped.crop(region), astronaut.crop(region)) < 0.7
    coffee = Media(data=encode(Image.fromarray(data.coffee()), "PNG"), mime="image/png")
    with pytest.raises(InvalidInput, match="No face was found"):
        provider.face_swap(FaceSwapRequest(image=base, face_image=coffee, model="local-pillow"))
