"""Provider outputs made into what the user asked for: the exact size, the requested format."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
EXT = {"png": "png", "jpeg": "jpg", "webp": "webp"}


def open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def exact_size(image: Image.Image, width: int | None, height: int | None) -> Image.Image:
    """Cover-crop and resize to exactly width x height (a model's nearest accepted size, made exact)."""
    if not width or not height or image.size == (width, height):
        return image
    return ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS, centering=(0.5, 0.5))


def encode(image: Image.Image, fmt: str, *, quality: int = 92) -> tuple[bytes, str]:
    """Bytes and mime in `fmt` (png, jpeg, webp); JPEG flattens transparency onto white."""
    out = io.BytesIO()
    if fmt == "jpeg":
        if image.mode in ("RGBA", "LA", "P"):
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            image = flat
        elif image.mode != "RGB":
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    elif fmt == "webp":
        image.save(out, "WEBP", quality=quality, method=4)
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue(), MIME[fmt]
