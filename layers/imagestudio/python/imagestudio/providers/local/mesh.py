"""Image-to-3D: a binary glTF 2.0 (GLB) relief written with `struct` and `json` only.

A GRID x GRID height field (32 x 32 vertices, 31 x 31 quads, 1,922 triangles) whose height is the
image's luminance (on the subject only, when remove_background finds one), facing +Z, Y up, spanning
`foreground_ratio` of a unit square in the image's aspect; positions, normals (central differences),
UVs and uint16 indices; the image embedded as a PNG texture (bufferView + image + texture + sampler +
material). Layout: 12-byte header, a JSON chunk padded with spaces, a BIN chunk padded with zeros, every
bufferView starting on a 4-byte boundary; POSITION has accessor min and max.
"""

from __future__ import annotations

import io
import json
import math
import struct
from typing import Any, Final

from PIL import Image, ImageStat

from imagestudio.providers.base import Output
from imagestudio.providers.local.common import RENDERER
from imagestudio.providers.local.edit import subject_alpha

GRID: Final = 32
GLB_MAGIC: Final = 0x46546C67  # "glTF"
CHUNK_JSON: Final = 0x4E4F534A
CHUNK_BIN: Final = 0x004E4942
ARRAY_BUFFER: Final = 34962
ELEMENT_ARRAY_BUFFER: Final = 34963
FLOAT: Final = 5126
UNSIGNED_SHORT: Final = 5123
UNSIGNED_INT: Final = 5125
MAX_TEXTURE: Final = 2048


def _pad(data: bytes, fill: bytes) -> bytes:
    return data + fill * (-len(data) % 4)


def heights(image: Image.Image, grid: int) -> list[float]:
    """grid*grid heights 0..1, row by row from the top."""
    grey = image.convert("L").resize((grid, grid), Image.Resampling.BOX)
    lum = list(grey.tobytes())
    alpha = subject_alpha(_small(image))
    alpha_grid = alpha.resize((grid, grid), Image.Resampling.BOX)
    coverage = ImageStat.Stat(alpha_grid).mean[0] / 255
    if 0.03 < coverage < 0.95:
        mask = list(alpha_grid.tobytes())
        return [(m / 255) * (0.35 + 0.65 * v / 255) for v, m in zip(lum, mask, strict=True)]
    return [v / 255 for v in lum]


def _small(image: Image.Image) -> Image.Image:
    small = image.copy()
    small.thumbnail((256, 256))
    return small


def build_glb(
    image: Image.Image,
    *,
    grid: int = GRID,
    texture_resolution: int | None = None,
    foreground_ratio: float | None = None,
    relief: float = 0.22,
) -> tuple[bytes, dict[str, Any]]:
    """The GLB bytes and a summary (vertex, triangle and texture figures)."""
    n = max(2, grid)
    ratio = 0.85 if foreground_ratio is None else max(0.05, min(2.0, float(foreground_ratio)))
    w, h = image.size
    span_x, span_y = ratio * w / max(w, h), ratio * h / max(w, h)
    zs = [z * relief * ratio for z in heights(image, n)]
    dx, dy = span_x / (n - 1), span_y / (n - 1)

    positions: list[float] = []
    normals: list[float] = []
    uvs: list[float] = []
    for j in range(n):
        for i in range(n):
            positions += [(i / (n - 1) - 0.5) * span_x, (0.5 - j / (n - 1)) * span_y, zs[j * n + i]]
            left, right = zs[j * n + max(0, i - 1)], zs[j * n + min(n - 1, i + 1)]
            up, down = zs[max(0, j - 1) * n + i], zs[min(n - 1, j + 1) * n + i]
            dzdx = (right - left) / (dx * (min(n - 1, i + 1) - max(0, i - 1)))
            dzdy = (up - down) / (dy * (min(n - 1, j + 1) - max(0, j - 1)))  # +y is up (row j-1)
            length = math.sqrt(dzdx * dzdx + dzdy * dzdy + 1.0)
            normals += [-dzdx / length, -dzdy / length, 1.0 / length]
            uvs += [i / (n - 1), j / (n - 1)]
    indices: list[int] = []
    for j in range(n - 1):
        for i in range(n - 1):
            a = j * n + i
            b, c = a + 1, a + n
            indices += [a, c, b, b, c, c + 1]  # counter-clockwise seen from +Z

    vertex_count = n * n
    index_type, index_format = (UNSIGNED_SHORT, "H") if vertex_count <= 65535 else (UNSIGNED_INT, "I")
    position_bytes = struct.pack(f"<{len(positions)}f", *positions)
    stored = struct.unpack(f"<{len(positions)}f", position_bytes)  # min/max as float32, as readers see them
    texture = _texture_png(image, texture_resolution)
    parts = [
        (position_bytes, ARRAY_BUFFER),
        (struct.pack(f"<{len(normals)}f", *normals), ARRAY_BUFFER),
        (struct.pack(f"<{len(uvs)}f", *uvs), ARRAY_BUFFER),
        (struct.pack(f"<{len(indices)}{index_format}", *indices), ELEMENT_ARRAY_BUFFER),
        (texture, None),
    ]
    binary = b""
    views: list[dict[str, Any]] = []
    for data, target in parts:
        view: dict[str, Any] = {"buffer": 0, "byteOffset": len(binary), "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        views.append(view)
        binary = _pad(binary + data, b"\x00")

    document: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": f"Image Studio {RENDERER}"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "relief"}],
        "meshes": [
            {
                "name": "relief",
                "primitives": [
                    {
                        "attributes": {"POSITION": 0, "NORMAL": 1, "TEXCOORD_0": 2},
                        "indices": 3,
                        "material": 0,
                        "mode": 4,
                    }
                ],
            }
        ],
        "materials": [
            {
                "name": "image",
                "pbrMetallicRoughness": {
                    "baseColorTexture": {"index": 0},
                    "metallicFactor": 0.0,
                    "roughnessFactor": 0.9,
                },
                "doubleSided": True,
            }
        ],
        "textures": [{"sampler": 0, "source": 0}],
        "samplers": [{"magFilter": 9729, "minFilter": 9987, "wrapS": 33071, "wrapT": 33071}],
        "images": [{"bufferView": 4, "mimeType": "image/png"}],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": FLOAT,
                "count": vertex_count,
                "type": "VEC3",
                "min": [min(stored[k::3]) for k in range(3)],
                "max": [max(stored[k::3]) for k in range(3)],
            },
            {"bufferView": 1, "componentType": FLOAT, "count": vertex_count, "type": "VEC3"},
            {"bufferView": 2, "componentType": FLOAT, "count": vertex_count, "type": "VEC2"},
            {"bufferView": 3, "componentType": index_type, "count": len(indices), "type": "SCALAR"},
        ],
        "bufferViews": views,
        "buffers": [{"byteLength": len(binary)}],
    }
    json_chunk = _pad(json.dumps(document, separators=(",", ":")).encode("utf-8"), b" ")
    total = 12 + 8 + len(json_chunk) + 8 + len(binary)
    glb = b"".join(
        (
            struct.pack("<III", GLB_MAGIC, 2, total),
            struct.pack("<II", len(json_chunk), CHUNK_JSON),
            json_chunk,
            struct.pack("<II", len(binary), CHUNK_BIN),
            binary,
        )
    )
    summary = {
        "vertices": vertex_count,
        "triangles": len(indices) // 3,
        "texture_width": _png_size(texture)[0],
        "texture_height": _png_size(texture)[1],
    }
    return glb, summary


def _texture_png(image: Image.Image, resolution: int | None) -> bytes:
    side = max(16, min(MAX_TEXTURE, resolution or 1024))
    texture = image.convert("RGBA" if image.mode == "RGBA" else "RGB")
    if max(texture.size) != side:
        scale = side / max(texture.size)
        texture = texture.resize(
            (max(1, round(texture.width * scale)), max(1, round(texture.height * scale))),
            Image.Resampling.LANCZOS,
        )
    buffer = io.BytesIO()
    texture.save(buffer, "PNG", compress_level=3)
    return buffer.getvalue()


def _png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return (int(width), int(height))


def model_output(image: Image.Image, *, seed: int, **options: Any) -> Output:
    data, summary = build_glb(image, **options)
    return Output(
        mime="model/gltf-binary",
        data=data,
        seed=seed,
        extra={"renderer": RENDERER, "format": "glb", **summary},
    )
