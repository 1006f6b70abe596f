"""`make bench-social`: the Social Optimizer's 20 social formats from one 24-megapixel photo, three ways.

- naive: decode the JPEG in full once; per format, LANCZOS from full resolution over the crop; encode;
- pyvips at its best: shrink-on-load once at the largest power-of-two shrink that still serves the
  largest output, copy_memory, each distinct rendition (size and crop) once: crop +
  resize(kernel="lanczos3") + jpegsave_buffer;
- ours: the product's `prepare` (verify + draft decode) and `export` (subject detection, crop
  planning, pyramid resampling, encoding in a thread pool), with threads = CPUs and with 1 thread, as
  in the Lambda layer (saliency; deployed, Rekognition's DetectFaces adds one API round trip, not
  CPU); and once more with OpenCV's face cascade, as offline ("ours-faces", not in the ratios).

Every method encodes JPEG quality 85, baseline, with optimized Huffman tables (the product's setting),
except pyvips, which is timed twice: as specified (jpegsave_buffer Q=85: its default, unoptimized
tables, files about 8% larger) and like for like (optimize_coding=True); the last line uses the
former. Naive and pyvips use the crop boxes the product planned (smart mode), so the pictures can be
compared: PSNR of ours and of pyvips against naive, per format, on the decoded JPEGs.

The machine is shared and its load swings within seconds, so the methods run side by side: 5 rounds,
each running every method once, each run in its own interpreter; times are medians over the rounds and
the ratios are medians of the ratios within each round. Memory is the process's resident set (native
memory included, which tracemalloc would miss): its peak over the run (VmHWM, reset just before it) and
how much that peak grew over the resident size before it. Then ours runs once more on a 50-megapixel
JPEG (8660x5774) for its peak memory. The last line is
`speedup_vs_naive=X.X ratio_vs_pyvips=Y.Y ratio_vs_pyvips_default=Z.Z peak_mb_50mp=N`: naive / ours;
ours / pyvips at its best (issue 16: optimized Huffman tables, the same files as ours); ours / pyvips
with its default tables (8% larger files).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import io
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "imagestudio" / "python"), str(ROOT)]

SIZE = (6000, 4000)
SIZE_50MP = (8660, 5774)
SEED = 7
RUNS = 5
QUALITY = 85


# ---------------------------------------------------------------------------------------------------------
# The source picture


def make_source(size: tuple[int, int] = SIZE) -> bytes:
    """A 6000x4000 JPEG (quality 92) that compresses like a photo: soft gradients, out-of-focus shapes
    behind a sharp subject on the left third (a face-like skin-toned oval over a body), sensor noise."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    rng = random.Random(SEED)
    width, height = size
    corners = Image.new("RGB", (4, 3))
    for x in range(4):
        for y in range(3):
            corners.putpixel((x, y), (rng.randrange(30, 120), rng.randrange(60, 150), rng.randrange(90, 200)))
    picture = corners.resize(size, Image.Resampling.BICUBIC)
    background = Image.new("RGB", (width // 4, height // 4))
    background.paste(picture.resize(background.size))
    draw = ImageDraw.Draw(background)
    for _ in range(40):  # out-of-focus shapes: drawn small, blurred, scaled up
        x, y = rng.randrange(background.width), rng.randrange(background.height)
        r = rng.randrange(20, 120)
        colour = (rng.randrange(40, 256), rng.randrange(40, 256), rng.randrange(40, 256))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    background = background.filter(ImageFilter.GaussianBlur(12)).resize(size, Image.Resampling.BICUBIC)
    picture = Image.blend(picture, background, 0.6)
    draw = ImageDraw.Draw(picture)
    cx, cy = width // 3, int(height * 0.45)
    draw.rounded_rectangle((cx - 520, cy + 420, cx + 520, height), radius=260, fill=(52, 60, 92))  # body
    draw.ellipse((cx - 360, cy - 470, cx + 360, cy + 470), fill=(224, 172, 140))  # face
    for ex in (cx - 150, cx + 150):  # eyes
        draw.ellipse((ex - 55, cy - 120, ex + 55, cy - 60), fill=(40, 30, 30))
    draw.arc((cx - 170, cy + 80, cx + 170, cy + 260), 20, 160, fill=(150, 60, 60), width=28)
    for _ in range(400):  # fine detail: thin lines (hair, texture)
        x, y = rng.randrange(width), rng.randrange(height)
        shade = rng.randrange(256)
        draw.line(
            (x, y, x + rng.randrange(-200, 200), y + rng.randrange(-200, 200)), fill=(shade,) * 3, width=3
        )
    picture = picture.filter(ImageFilter.GaussianBlur(1.2))
    noise = Image.effect_noise(size, 10).convert("RGB")  # Gaussian, around 128 (C rand(): fixed per process)
    picture = ImageChops.add(picture, noise, scale=1.0, offset=-128)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=92)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------------
# The three methods (run inside a worker process)


@functools.cache
def _targets() -> list[Any]:
    """Loaded once per process, before the timing starts: the catalog is read once per warm Lambda."""
    from imagestudio.imaging.social import catalog_targets

    return catalog_targets()  # every platform of kind "social": instagram .. tiktok, 20 formats


Box = tuple[float, float, float, float]


def _box(box: list[float]) -> Box:
    """A planned crop (as JSON gives it: a list) as the 4-tuple Pillow takes."""
    left, top, right, bottom = box
    return left, top, right, bottom


def run_naive(data: bytes, plan: list[list[float]], out: list[bytes]) -> dict[str, Any]:
    from PIL import Image

    from imagestudio.imaging.social import encode

    targets = _targets()
    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGB")
    out.clear()
    for t, box in zip(targets, plan, strict=True):
        resized = image.resize((t.width, t.height), Image.Resampling.LANCZOS, box=_box(box))
        out.append(encode(resized, "jpeg", QUALITY))
    return {"decoded": f"{image.width}x{image.height}"}


def run_pyvips(data: bytes, plan: list[list[float]], out: list[bytes], optimize: bool) -> dict[str, Any]:
    import pyvips

    targets = _targets()
    header = pyvips.Image.new_from_buffer(data, "")
    need = max(max(t.width / header.width, t.height / header.height) for t in targets)
    shrink = next(s for s in (8, 4, 2, 1) if 1 / s >= need or s == 1)
    image = pyvips.Image.new_from_buffer(data, "", shrink=shrink).copy_memory()
    out.clear()
    made: dict[tuple[object, ...], bytes] = {}  # each distinct rendition (size and crop) once
    for t, box in zip(targets, plan, strict=True):
        key = (t.width, t.height, *box)
        if key not in made:
            left, top, right, bottom = box
            x, y = round(left / shrink), round(top / shrink)
            w = min(image.width - x, max(1, round((right - left) / shrink)))
            h = min(image.height - y, max(1, round((bottom - top) / shrink)))
            resized = image.crop(x, y, w, h).resize(t.width / w, vscale=t.height / h, kernel="lanczos3")
            if (resized.width, resized.height) != (t.width, t.height):
                resized = resized.gravity("centre", t.width, t.height, extend="copy")
            made[key] = resized.jpegsave_buffer(Q=QUALITY, optimize_coding=optimize)
        out.append(made[key])
    return {"decoded": f"{image.width}x{image.height}", "shrink": shrink, "distinct": len(made)}


def run_ours(
    data: bytes, out: list[bytes], threads: int, max_pixels: int | None = None, faces: bool = False
) -> dict[str, Any]:
    from imagestudio.imaging.faces import default_detector
    from imagestudio.imaging.social import export, largest_size, prepare
    from imagestudio.imaging.verify import DEFAULT_MAX_PIXELS

    targets = _targets()
    detector = default_detector() if faces else None
    prepared = prepare(
        data,
        largest_size(targets),
        face_detector=detector,
        find_subject=True,
        max_pixels=max_pixels or DEFAULT_MAX_PIXELS,
    )
    rendered = export(prepared, targets, mode="smart", output_format="jpeg", quality=QUALITY, threads=threads)
    out[:] = [r.data for r in rendered]
    distinct = len({(r.width, r.height, r.crop_box) for r in rendered})
    return {
        "decoded": f"{prepared.image.width}x{prepared.image.height} (1/{prepared.factor})",
        "distinct": distinct,
        "crops": [list(r.crop_box) for r in rendered],
    }


def _memory_kb() -> tuple[int, int]:
    """(resident now, peak resident) of this process in kB. Linux's VmHWM belongs to this program image
    (ru_maxrss would carry the parent's peak over fork and exec); elsewhere ru_maxrss stands in."""
    try:
        fields = dict(
            line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line
        )
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak, peak


def _reset_peak() -> None:
    """Start the peak afresh from the current resident size (Linux: clear_refs 5); best effort."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def worker(args: argparse.Namespace) -> None:
    data = Path(args.source).read_bytes()
    plan = json.loads(Path(args.plan).read_text()) if args.plan else []
    if args.method.startswith("pyvips"):
        import pyvips

        pyvips.cache_set_max(0)  # no operation cache: every run decodes and resizes for real
    from imagestudio.imaging import social  # noqa: F401  (imports are not part of the timing)

    _targets()  # nor is reading the catalog

    outputs: list[bytes] = []
    base, _ = _memory_kb()
    _reset_peak()
    times = []
    info: dict[str, Any] = {}
    for _ in range(args.runs):
        start = time.perf_counter()
        if args.method == "naive":
            info = run_naive(data, plan, outputs)
        elif args.method == "pyvips":
            info = run_pyvips(data, plan, outputs, optimize=True)
        elif args.method == "pyvips-default":
            info = run_pyvips(data, plan, outputs, optimize=False)
        else:
            info = run_ours(data, outputs, args.threads, args.max_pixels, faces=args.method == "ours-faces")
        times.append(time.perf_counter() - start)
    _, peak = _memory_kb()
    folder = Path(args.out)
    for i, blob in enumerate(outputs):
        (folder / f"{i:02d}.jpg").write_bytes(blob)
    print(
        json.dumps({"times": times, "base_kb": base, "peak_kb": peak, "bytes": sum(map(len, outputs))} | info)
    )


# ---------------------------------------------------------------------------------------------------------
# The parent: generate, plan, run each method in its own process, compare


def _psnr(a: Any, b: Any) -> float:
    from PIL import ImageChops

    hist = ImageChops.difference(a, b).histogram()
    squared = sum(count * (i % 256) ** 2 for i, count in enumerate(hist))
    if squared == 0:
        return math.inf
    return 10 * math.log10(255**2 / (squared / (a.width * a.height * 3)))


def _decode(path: Path) -> Any:
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("RGB")


def _spawn(
    method: str,
    source: Path,
    plan: Path | None,
    out: Path,
    threads: int = 0,
    runs: int = RUNS,
    max_pixels: int = 0,
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "benchmarks.social", "--worker", "--method", method]
    command += ["--source", str(source), "--out", str(out), "--runs", str(runs), "--threads", str(threads)]
    command += ["--max-pixels", str(max_pixels)]
    if plan is not None:
        command += ["--plan", str(plan)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare_filters(data: bytes, prepared: Any, targets: list[Any], plan: list[list[float]]) -> list[str]:
    """Why the product resamples with the filter it does: each candidate filter resamples the distinct
    renditions from the product's pyramid (one thread, best of 3), and each result, encoded like the
    product's, is compared with Lanczos from the full-resolution picture (PSNR, decoded JPEGs)."""
    from PIL import Image

    from imagestudio.imaging import social

    with Image.open(io.BytesIO(data)) as opened:
        full = opened.convert("RGB")
    distinct = list(
        dict.fromkeys(((t.width, t.height), _box(box)) for t, box in zip(targets, plan, strict=True))
    )

    def as_jpeg(image: Any) -> Any:
        return Image.open(io.BytesIO(social.encode(image, "jpeg", QUALITY))).convert("RGB")

    references = [as_jpeg(full.resize(size, Image.Resampling.LANCZOS, box=box)) for size, box in distinct]
    lines = [
        f"{'filter (from the pyramid, 1 thread)':<40} {'resample_s':>10} {'psnr_min':>8} {'psnr_mean':>9}"
    ]
    for name in ("BILINEAR", "HAMMING", "BICUBIC", "LANCZOS"):
        method = Image.Resampling[name]
        pyramid = social._Pyramid(prepared)
        pyramid.level(1)
        best = math.inf
        for _ in range(3):
            start = time.perf_counter()
            outputs = [pyramid.resample(box, size, method) for size, box in distinct]
            best = min(best, time.perf_counter() - start)
        values = [_psnr(as_jpeg(o), r) for o, r in zip(outputs, references, strict=True)]
        label = name.lower() + (" (the product's)" if method == social.RESAMPLE else "")
        lines.append(f"{label:<40} {best:>10.3f} {min(values):>8.1f} {statistics.mean(values):>9.1f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--method")
    parser.add_argument("--source")
    parser.add_argument("--plan")
    parser.add_argument("--out")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--max-pixels", type=int, default=0)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    data = make_source()
    cpus = os.cpu_count() or 1
    try:
        import pyvips

        libvips = ".".join(str(pyvips.version(i)) for i in range(3))
        vips = f"pyvips {pyvips.__version__} / libvips {libvips}"
    except Exception as err:  # not installed: pip install -r requirements-dev.txt
        vips = None
        print(f"pyvips unavailable ({type(err).__name__}: {err}); pyvips figures skipped")
    from PIL import __version__ as pillow_version

    from imagestudio.imaging.social import largest_size, plan_crops, prepare

    targets = _targets()
    prepared = prepare(data, largest_size(targets), find_subject=True)  # as the product in smart mode
    subject = prepared.subject()
    # the product's own plan (smart crops), given to naive and pyvips so the pictures compare
    plan = [list(box) for box in plan_crops(prepared, targets, mode="smart")]
    methods = ["naive", "ours", "ours-1", "ours-faces"] + (["pyvips", "pyvips-default"] if vips else [])

    with tempfile.TemporaryDirectory(prefix="bench-social-") as tmp:
        folder = Path(tmp)
        source = folder / "source.jpg"
        source.write_bytes(data)
        plan_path = folder / "plan.json"
        plan_path.write_text(json.dumps(plan))

        rounds: list[dict[str, dict[str, Any]]] = []
        for _ in range(RUNS):  # side by side: every method once per round, each in a fresh interpreter
            rounds.append(
                {
                    method: _spawn(
                        "ours" if method == "ours-1" else method,
                        source,
                        None if method.startswith("ours") else plan_path,
                        folder / method,
                        threads=1 if method == "ours-1" else cpus,
                        runs=1,
                    )
                    for method in methods
                }
            )
        results = {
            m: rounds[-1][m]
            | {
                "times": [r[m]["times"][0] for r in rounds],
                "peak_kb": max(r[m]["peak_kb"] for r in rounds),
                "base_kb": min(r[m]["base_kb"] for r in rounds),
            }
            for m in methods
        }

        names = [f"{i:02d}.jpg" for i in range(len(targets))]
        naive_pics = [_decode(folder / "naive" / n) for n in names]
        psnr: dict[str, list[float]] = {}
        for method in ("ours", "ours-1", "pyvips"):  # ours-faces may crop elsewhere: not compared
            if method in results:
                psnr[method] = [
                    _psnr(_decode(folder / method / n), ref) for n, ref in zip(names, naive_pics, strict=True)
                ]
        psnr["pyvips-default"] = psnr.get("pyvips", [])
        if results["ours"]["crops"] != [[round(v) for v in box] for box in plan]:
            raise RuntimeError("ours cropped differently from the plan given to naive and pyvips")

        big = folder / "source-50mp.jpg"
        big.write_bytes(make_source(SIZE_50MP))
        # above the product's default cap (imaging.verify.DEFAULT_MAX_PIXELS, 40 MP): raised for this run
        fifty = _spawn("ours", big, None, folder / "ours-50mp", threads=cpus, runs=1, max_pixels=60_000_000)

    filters = compare_filters(data, prepared, targets, plan)

    def paired(method: str) -> float:
        return statistics.median(r["ours"]["times"][0] / r[method]["times"][0] for r in rounds)

    median = {m: statistics.median(r["times"]) for m, r in results.items()}
    print(
        f"source: {SIZE[0]}x{SIZE[1]} JPEG q92, {len(data) / 1e6:.1f} MB"
        f" (sha256 {hashlib.sha256(data).hexdigest()[:12]});"
        f" {len(targets)} formats of {len({t.platform for t in targets})} platforms; JPEG q{QUALITY};"
        f" {cpus} CPUs; Pillow {pillow_version}; {vips or 'no pyvips'};"
        f" {RUNS} rounds, each method once per round in its own process"
    )
    box = ", ".join(f"{v:.2f}" for v in subject.box) if subject else "none"
    print(
        f"ours: decoded {results['ours']['decoded']}, {results['ours']['distinct']} distinct renditions for"
        f" {len(targets)} formats; subject box ({box}); naive decoded {results['naive']['decoded']};"
        + (
            f" pyvips shrink-on-load {results['pyvips']['shrink']}, {results['pyvips']['distinct']} distinct"
            if "pyvips" in results
            else ""
        )
    )
    labels = {
        "naive": "naive (full decode, LANCZOS from full res)",
        "pyvips": "pyvips at its best (lanczos3, Q85, optimized Huffman)",
        "pyvips-default": "pyvips, default Huffman tables (8% larger files)",
        "ours": f"ours (prepare + export, threads={cpus})",
        "ours-1": "ours (prepare + export, threads=1)",
        "ours-faces": f"ours + OpenCV face detection (offline), threads={cpus}",
    }
    print(
        f"{'method':<54} {'median_s':>8} {'min_s':>6} {'max_s':>6} {'peak_MB':>8} {'grew_MB':>8}"
        f" {'out_MB':>7} {'psnr_min':>8} {'psnr_mean':>9}"
    )
    for method in ("naive", "pyvips", "pyvips-default", "ours", "ours-1", "ours-faces"):
        if method not in results:
            continue
        r = results[method]
        values = psnr.get(method)
        quality = (
            f"{min(values):>8.1f} {statistics.mean(values):>9.1f}"
            if values
            else f"{'(ref)' if method == 'naive' else '(crops)':>8} {'':>9}"
        )
        print(
            f"{labels[method]:<54} {median[method]:>8.3f} {min(r['times']):>6.3f} {max(r['times']):>6.3f}"
            f" {r['peak_kb'] / 1024:>8.0f} {(r['peak_kb'] - r['base_kb']) / 1024:>8.0f}"
            f" {r['bytes'] / 1e6:>7.2f} {quality}"
        )
    worst = min(range(len(targets)), key=lambda i: psnr["ours"][i])
    print(
        f"lowest PSNR of ours: {targets[worst].platform} {targets[worst].format_name}"
        f" ({psnr['ours'][worst]:.1f} dB); same crops as naive and pyvips: yes"
    )
    print("\n".join(filters))
    peak_50 = fifty["peak_kb"] / 1024
    print(
        f"50 MP input ({SIZE_50MP[0]}x{SIZE_50MP[1]} JPEG): ours decoded {fifty['decoded']},"
        f" peak resident {peak_50:.0f} MB ({'under' if peak_50 < 1024 else 'OVER'} 1 GB)"
    )
    ratio = ratio_default = "n/a"
    if "pyvips" in results:
        ratio, ratio_default = f"{paired('pyvips'):.2f}", f"{paired('pyvips-default'):.2f}"
        print(
            f"ours / pyvips, median of the {RUNS} rounds' ratios: {ratio} against pyvips at its best"
            f" (optimized Huffman tables like ours; its files {results['pyvips']['bytes'] / 1e6:.2f} MB, ours"
            f" {results['ours']['bytes'] / 1e6:.2f} MB), {ratio_default} against its default tables"
        )
    speedup = statistics.median(r["naive"]["times"][0] / r["ours"]["times"][0] for r in rounds)
    print(
        f"speedup_vs_naive={speedup:.1f} ratio_vs_pyvips={ratio} ratio_vs_pyvips_default={ratio_default}"
        f" peak_mb_50mp={peak_50:.0f}"
    )


if __name__ == "__main__":
    main()
