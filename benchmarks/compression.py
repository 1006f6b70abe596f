"""`python -m benchmarks.compression`: compress a 12-megapixel photo to a target size, ours vs a plain
quality sweep, side by side in one run.

- sweep: what a script without a model does (and what the original's target path did): encode at
  quality 95, 90, 85, ... 5 until the file is at or under the target; the first that fits wins;
- ours: `imagestudio.imaging.compress.compress(target_kb=...)`: sample-predicted quality, then a
  calibrated, bracketed search of full encodes, keeping the highest quality that fits.

Both start from the same decoded 4000x3000 RGB photo (scikit-image's photographs tiled, with film
grain) saved as a quality-95 JPEG: both times include decoding it, ours also the metadata handling and
its SSIM/PSNR figure. Both encode with the same settings (optimized JPEG; WebP method 4; AVIF speed
8), so the difference is the search. Reported per format and target:
wall time, full encodes, bytes, quality chosen and SSIM against the input, then the ratios
sweep/ours for time and ours/sweep for bytes, and ours - sweep for SSIM. Timings are the median of
`RUNS` runs; they are figures to read, not asserted.
The last line is `speedup_vs_sweep=X.X bytes_ratio=Y.YY ssim_gain=+Z.ZZZZ` (medians over the cases).
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "imagestudio" / "python"), str(ROOT)]

from PIL import Image  # noqa: E402

from imagestudio.imaging.compress import (  # noqa: E402
    AVIF_SEARCH_SPEED,
    CompressOptions,
    Encoding,
    compress,
    encode_still,
)
from imagestudio.imaging.fidelity import measure  # noqa: E402
from tests.images import encode, sample_photo  # noqa: E402

RUNS = 3
CASES: list[tuple[str, int]] = [("jpeg", 1500), ("jpeg", 600), ("webp", 600), ("webp", 250), ("avif", 400)]
SWEEP = list(range(95, 0, -5))


@dataclass
class Outcome:
    seconds: float
    encodes: int
    bytes: int
    quality: int | None
    ssim: float


def sweep(source: bytes, fmt: str, target: int) -> Outcome:
    start = time.perf_counter()
    im = Image.open(io.BytesIO(source)).convert("RGB")
    encodes = 0
    data, quality = b"", None
    base = Encoding(format=fmt, avif_speed=AVIF_SEARCH_SPEED)
    for q in SWEEP:
        data = encode_still(im.copy(), replace(base, quality=q))
        encodes += 1
        quality = q
        if len(data) <= target:
            break
    seconds = time.perf_counter() - start
    decoded = Image.open(io.BytesIO(data))
    decoded.load()
    return Outcome(seconds, encodes, len(data), quality, measure(im, decoded).ssim)


def ours(source: bytes, fmt: str, target_kb: int) -> Outcome:
    start = time.perf_counter()
    result = compress(source, CompressOptions(format=fmt, target_kb=target_kb))  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    return Outcome(seconds, result.encodes, result.bytes, result.quality_used, result.fidelity.ssim)


def median_of(runs: list[Outcome]) -> Outcome:
    first = runs[0]
    return replace(first, seconds=statistics.median(r.seconds for r in runs))


def main() -> None:
    photo = sample_photo(4000, 3000)
    source = encode(photo, "JPEG", quality=95)
    print(f"source: 4000x3000 JPEG q95, {len(source) / 1024:.0f} KB; {RUNS} runs each, median time")
    header = (
        f"{'case':<14}{'method':<7}{'time s':>8}{'encodes':>9}{'KB':>8}{'q':>5}{'SSIM':>8}"
        f"{'speedup':>9}{'bytes':>7}{'dSSIM':>9}"
    )
    print(header)
    speedups, byte_ratios, gains = [], [], []
    for fmt, target_kb in CASES:
        target = target_kb * 1024
        a = median_of([sweep(source, fmt, target) for _ in range(RUNS)])
        b = median_of([ours(source, fmt, target_kb) for _ in range(RUNS)])
        speedup = a.seconds / b.seconds
        ratio = b.bytes / a.bytes
        gain = b.ssim - a.ssim
        speedups.append(speedup)
        byte_ratios.append(ratio)
        gains.append(gain)
        case = f"{fmt} {target_kb}KB"
        for name, o in (("sweep", a), ("ours", b)):
            fits = "" if o.bytes <= target else " (over!)"
            print(
                f"{case:<14}{name:<7}{o.seconds:>8.2f}{o.encodes:>9}{o.bytes / 1024:>8.0f}"
                f"{o.quality if o.quality is not None else '-':>5}{o.ssim:>8.4f}{fits}"
                + (f"{speedup:>9.1f}{ratio:>7.2f}{gain:>+9.4f}" if name == "ours" else "")
            )
    print(
        f"speedup_vs_sweep={statistics.median(speedups):.1f}"
        f" bytes_ratio={statistics.median(byte_ratios):.2f}"
        f" ssim_gain={statistics.median(gains):+.4f}"
    )


if __name__ == "__main__":
    main()
