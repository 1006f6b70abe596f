"""`make bench-social`: the Social Optimizer's 20 social formats from one 24-megapixel photo, three ways.

- naive: decode the JPEG in full once; per format, LANCZOS from full resolution over the crop; encode;
- pyvips at its best: shrink-on-load once at the largest power-of-two shrink that still serves the
  largest output, copy_memory, per format crop + resize(kernel="lanczos3") + jpegsave_buffer;
- ours: the product's `prepare` (verify + draft decode) and `export` (subject detection, crop
  planning, pyramid resampling, encoding in a thread pool), with threads = CPUs and with 1 thread.

Every method encodes JPEG quality 85, baseline, with optimized Huffman tables (the product's setting),
except pyvips, which is timed twice: as specified (jpegsave_buffer Q=85: its default, unoptimized
tables, files about 8% larger) and like for like (optimize_coding=True); the last line uses the
former. Naive and pyvips use the crop boxes the product planned (smart mode), so the pictures can be
compared: PSNR of ours and of pyvips against naive, per format, on the decoded JPEGs.

Each method runs in its own interpreter: 5 runs, the median is reported. Memory is the process's
resident set (native memory included, which tracemalloc would miss): its peak over the runs (VmHWM,
reset just before the first run) and how much that peak grew over the resident size before the runs.
The last line is `speedup_vs_naive=X.X ratio_vs_pyvips=Y.Y` (naive / ours; ours / pyvips as specified).
"""

from __future__ import annotations

import argparse
import contextlib
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
SEED = 7
RUNS = 5
QUALITY = 85


# ---------------------------------------------------------------------------------------------------------
# The source picture


def make_source() -> bytes:
    """A 6000x4000 JPEG (quality 92) that compresses like a photo: soft gradients, out-of-focus shapes
    behind a sharp subject on the left third (a face-like skin-toned oval over a body), sensor noise."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    rng = random.Random(SEED)
    width, height = SIZE
    corners = Image.new("RGB", (4, 3))
    for x in range(4):
        for y in range(3):
            corners.putpixel((x, y), (rng.randrange(30, 120), rng.randrange(60, 150), rng.randrange(90, 200)))
    picture = corners.resize(SIZE, Image.Resampling.BICUBIC)
    background = Image.new("RGB", (width // 4, height // 4))
    background.paste(picture.resize(background.size))
    draw = ImageDraw.Draw(background)
    for _ in range(40):  # out-of-focus shapes: drawn small, blurred, scaled up
        x, y = rng.randrange(background.width), rng.randrange(background.height)
        r = rng.randrange(20, 120)
        colour = (rng.randrange(40, 256), rng.randrange(40, 256), rng.randrange(40, 256))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    background = background.filter(ImageFilter.GaussianBlur(12)).resize(SIZE, Image.Resampling.BICUBIC)
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
    noise = Image.effect_noise(SIZE, 10).convert("RGB")  # Gaussian, around 128 (C rand(): fixed per process)
    picture = ImageChops.add(picture, noise, scale=1.0, offset=-128)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=92)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------------
# The three methods (run inside a worker process)


def _targets() -> list[Any]:
    from imagestudio.imaging.social import catalog_targets

    return catalog_targets()  # every platform of kind "social": instagram .. tiktok, 20 formats


def run_naive(data: bytes, plan: list[list[float]], out: list[bytes]) -> dict[str, Any]:
    from PIL import Image

    from imagestudio.imaging.social import encode

    targets = _targets()
    image = Image.open(io.BytesIO(data))
    image.load()
    image = image.convert("RGB")
    out.clear()
    for t, box in zip(targets, plan, strict=True):
        resized = image.resize((t.width, t.height), Image.Resampling.LANCZOS, box=tuple(box))
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
    for t, (left, top, right, bottom) in zip(targets, plan, strict=True):
        x, y = round(left / shrink), round(top / shrink)
        w = min(image.width - x, max(1, round((right - left) / shrink)))
        h = min(image.height - y, max(1, round((bottom - top) / shrink)))
        resized = image.crop(x, y, w, h).resize(t.width / w, vscale=t.height / h, kernel="lanczos3")
        if (resized.width, resized.height) != (t.width, t.height):
            resized = resized.gravity("centre", t.width, t.height, extend="copy")
        out.append(resized.jpegsave_buffer(Q=QUALITY, optimize_coding=optimize))
    return {"decoded": f"{image.width}x{image.height}", "shrink": shrink}


def run_ours(data: bytes, out: list[bytes], threads: int) -> dict[str, Any]:
    from imagestudio.imaging.social import export, largest_size, prepare

    targets = _targets()
    prepared = prepare(data, largest_size(targets))
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
            info = run_ours(data, outputs, args.threads)
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


def _spawn(method: str, source: Path, plan: Path | None, out: Path, threads: int = 0) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "benchmarks.social", "--worker", "--method", method]
    command += ["--source", str(source), "--out", str(out), "--runs", str(RUNS), "--threads", str(threads)]
    if plan is not None:
        command += ["--plan", str(plan)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--method")
    parser.add_argument("--source")
    parser.add_argument("--plan")
    parser.add_argument("--out")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--threads", type=int, default=0)
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

    with tempfile.TemporaryDirectory(prefix="bench-social-") as tmp:
        folder = Path(tmp)
        source = folder / "source.jpg"
        source.write_bytes(data)

        # the product's own plan (smart crops), given to naive and pyvips so the pictures compare
        ours_first = _spawn("ours", source, None, folder / "ours", threads=cpus)
        plan_path = folder / "plan.json"
        from imagestudio.imaging.social import largest_size, plan_crop, prepare

        targets = _targets()
        prepared = prepare(data, largest_size(targets))
        subject = prepared.subject()
        plan = [
            list(
                plan_crop(
                    prepared.source_size,
                    (t.width, t.height),
                    subject.box if subject else None,
                    t.safe_zone,
                    None,
                    "smart",
                    centroid=subject.centroid if subject else None,
                )
            )
            for t in targets
        ]
        plan_path.write_text(json.dumps(plan))

        results: dict[str, dict[str, Any]] = {"ours": ours_first}
        results["ours-1"] = _spawn("ours", source, None, folder / "ours-1", threads=1)
        results["naive"] = _spawn("naive", source, plan_path, folder / "naive")
        if vips is not None:
            results["pyvips"] = _spawn("pyvips", source, plan_path, folder / "pyvips")
            results["pyvips-default"] = _spawn("pyvips-default", source, plan_path, folder / "pyvips-default")

        names = [f"{i:02d}.jpg" for i in range(len(targets))]
        naive_pics = [_decode(folder / "naive" / n) for n in names]
        psnr: dict[str, list[float]] = {}
        for method in ("ours", "ours-1", "pyvips"):
            if method in results:
                psnr[method] = [
                    _psnr(_decode(folder / method / n), ref) for n, ref in zip(names, naive_pics, strict=True)
                ]
        psnr["pyvips-default"] = psnr.get("pyvips", [])

    median = {m: statistics.median(r["times"]) for m, r in results.items()}
    print(
        f"source: {SIZE[0]}x{SIZE[1]} JPEG q92, {len(data) / 1e6:.1f} MB"
        f" (sha256 {hashlib.sha256(data).hexdigest()[:12]});"
        f" {len(targets)} formats of {len({t.platform for t in targets})} platforms; JPEG q{QUALITY};"
        f" {cpus} CPUs; Pillow {pillow_version}; {vips or 'no pyvips'};"
        f" median of {RUNS} runs, one process each"
    )
    box = ", ".join(f"{v:.2f}" for v in subject.box) if subject else "none"
    print(
        f"ours: decoded {ours_first['decoded']}, {ours_first['distinct']} distinct renditions for"
        f" {len(targets)} formats; subject box ({box}); naive decoded {results['naive']['decoded']};"
        + (f" pyvips shrink-on-load {results['pyvips']['shrink']}" if "pyvips" in results else "")
    )
    labels = {
        "naive": "naive (full decode, LANCZOS from full res)",
        "pyvips-default": "pyvips (shrink-on-load, lanczos3, Q=85 as specified)",
        "pyvips": "pyvips (same, optimize_coding=True: like for like)",
        "ours": f"ours (prepare + export, threads={cpus})",
        "ours-1": "ours (prepare + export, threads=1)",
    }
    print(
        f"{'method':<52} {'median_s':>8} {'min_s':>6} {'max_s':>6} {'peak_MB':>8} {'grew_MB':>8}"
        f" {'out_MB':>7} {'psnr_min':>8} {'psnr_mean':>9}"
    )
    for method in ("naive", "pyvips-default", "pyvips", "ours", "ours-1"):
        if method not in results:
            continue
        r = results[method]
        values = psnr.get(method)
        quality = (
            f"{min(values):>8.1f} {statistics.mean(values):>9.1f}" if values else f"{'(ref)':>8} {'':>9}"
        )
        print(
            f"{labels[method]:<52} {median[method]:>8.3f} {min(r['times']):>6.3f} {max(r['times']):>6.3f}"
            f" {r['peak_kb'] / 1024:>8.0f} {(r['peak_kb'] - r['base_kb']) / 1024:>8.0f}"
            f" {r['bytes'] / 1e6:>7.2f} {quality}"
        )
    if "ours" in psnr:
        worst = min(range(len(targets)), key=lambda i: psnr["ours"][i])
        print(
            f"lowest PSNR of ours: {targets[worst].platform} {targets[worst].format_name}"
            f" ({psnr['ours'][worst]:.1f} dB)"
        )
    speedup = median["naive"] / median["ours"]
    ratio = "n/a"
    if "pyvips" in median:
        print(
            f"like for like (pyvips with optimize_coding, the same files as ours):"
            f" ours / pyvips = {median['ours'] / median['pyvips']:.2f}"
        )
        ratio = f"{median['ours'] / median['pyvips-default']:.1f}"
        print(
            "as specified (pyvips jpegsave_buffer Q=85 with its default Huffman tables,"
            f" {results['pyvips-default']['bytes'] / 1e6:.2f} MB of files vs ours"
            f" {results['ours']['bytes'] / 1e6:.2f} MB): ours / pyvips = {ratio} (the last line)"
        )
    print(f"speedup_vs_naive={speedup:.1f} ratio_vs_pyvips={ratio}")


if __name__ == "__main__":
    main()
