"""The offline provider's images: checked by opening the files it makes."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from imagestudio.catalog import get_catalog
from imagestudio.imaging.verify import sniff_format
from imagestudio.providers.base import (
    ControlRequest,
    EditRequest,
    GenerateRequest,
    Media,
    Output,
    OutputFormat,
    Provider,
    ProviderRejected,
    Submitted,
    Succeeded,
    UpscaleRequest,
)
from imagestudio.providers.local import Faults, LocalProvider
from imagestudio.providers.local.generate import render

BG = (236, 236, 230)


@pytest.fixture
def provider() -> LocalProvider:
    return LocalProvider(faults=Faults(), async_jobs=False, poll_after=0)


def media(im: Image.Image, fmt: str = "PNG") -> Media:
    buffer = io.BytesIO()
    im.save(buffer, fmt)
    return Media(data=buffer.getvalue(), mime=f"image/{fmt.lower()}", width=im.width, height=im.height)


def only(result: object) -> Output:
    assert isinstance(result, Succeeded), result
    assert len(result.outputs) == 1
    return result.outputs[0]


def opened(output: Output) -> Image.Image:
    assert output.data is not None
    im = Image.open(io.BytesIO(output.data))
    im.load()
    assert (im.width, im.height) == (output.width, output.height)
    return im


def gen(
    provider: LocalProvider,
    prompt: str,
    *,
    seed: int = 1,
    size: tuple[int, int] = (256, 256),
    style_preset: str | None = None,
    negative_prompt: str | None = None,
) -> Image.Image:
    request = GenerateRequest(
        prompt=prompt,
        model="local-pillow",
        width=size[0],
        height=size[1],
        seed=seed,
        style_preset=style_preset,
        negative_prompt=negative_prompt,
    )
    return opened(only(provider.generate(request))).convert("RGB")


def mean_diff(a: Image.Image, b: Image.Image, mask: Image.Image | None = None) -> float:
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).convert("L")
    return float(ImageStat.Stat(diff, mask=mask).mean[0])


def channel_means(im: Image.Image, mask: Image.Image | None = None) -> tuple[float, float, float]:
    r, g, b = ImageStat.Stat(im.convert("RGB"), mask=mask).mean
    return (r, g, b)


def subject_scene(size: tuple[int, int] = (240, 180)) -> Image.Image:
    """A red disc with a background-coloured patch inside it, on a plain backdrop."""
    im = Image.new("RGB", size, BG)
    w, h = size
    draw = ImageDraw.Draw(im)
    draw.ellipse((w * 0.3, h * 0.2, w * 0.7, h * 0.85), fill=(200, 40, 40))
    draw.rectangle((w * 0.45, h * 0.45, w * 0.55, h * 0.55), fill=BG)
    return im


def test_it_is_a_provider() -> None:
    assert isinstance(LocalProvider(), Provider)
    assert LocalProvider().name == "local"
    assert LocalProvider(simulating="wavespeed").name == "wavespeed"


# ----------------------------------------------------------------------------------------- generate


@pytest.mark.parametrize("size", [(1080, 1350), (1500, 500), (37, 53), (1, 1)])
@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_generate_makes_the_exact_size_in_the_asked_format(
    provider: LocalProvider, size: tuple[int, int], fmt: OutputFormat
) -> None:
    request = GenerateRequest(
        prompt="a lighthouse on a cliff",
        model="local-pillow",
        width=size[0],
        height=size[1],
        output_format=fmt,
    )
    out = only(provider.generate(request))
    assert out.data is not None
    assert sniff_format(out.data) == {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt]
    assert out.mime == f"image/{fmt}"
    assert opened(out).size == size
    assert out.seed is not None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    width=st.integers(1, 160),
    height=st.integers(1, 160),
    style=st.sampled_from(
        [None, "tile-texture", "pixel-art", "low-poly", "line-art", "anime", "photographic"]
    ),
    prompt=st.text(max_size=40),
)
def test_generate_size_is_exact_for_any_size_style_and_prompt(
    provider: LocalProvider, width: int, height: int, style: str | None, prompt: str
) -> None:
    request = GenerateRequest(
        prompt=prompt, model="local-pillow", width=width, height=height, style_preset=style
    )
    assert opened(only(provider.generate(request))).size == (width, height)


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "1"])
@pytest.mark.parametrize("size", [(1, 1), (3, 2), (17, 9)])
def test_every_edit_survives_tiny_images_in_any_mode(
    provider: LocalProvider, mode: str, size: tuple[int, int]
) -> None:
    im = Image.new("RGB", size, (200, 30, 30)).convert(mode)
    for operation in (
        "remove_background",
        "inpaint",
        "outpaint",
        "search_replace",
        "search_recolor",
        "relight",
        "general_edit",
        "erase",
    ):
        out = edit(
            provider, im, operation, prompt="blue sky", search_prompt="red", select_prompt="red", right=2
        )
        assert out.size == ((size[0] + 2, size[1]) if operation == "outpaint" else size)


def test_same_prompt_and_seed_give_identical_bytes() -> None:
    request = GenerateRequest(
        prompt="sunset over the ocean", model="local-pillow", width=320, height=200, seed=7
    )
    first = only(LocalProvider(faults=Faults()).generate(request))
    second = only(LocalProvider(faults=Faults()).generate(request))
    assert first.data == second.data
    seedless = GenerateRequest(prompt="sunset over the ocean", model="local-pillow", width=64, height=64)
    assert only(LocalProvider().generate(seedless)).data == only(LocalProvider().generate(seedless)).data


def test_different_seeds_and_prompts_differ_visibly(provider: LocalProvider) -> None:
    base = gen(provider, "a castle in the mountains", seed=1)
    assert mean_diff(base, gen(provider, "a castle in the mountains", seed=2)) > 10
    assert mean_diff(base, gen(provider, "a cat sleeping on a sofa", seed=1)) > 10


def test_colour_words_drive_the_palette(provider: LocalProvider) -> None:
    red = channel_means(gen(provider, "a red apple"))
    blue = channel_means(gen(provider, "a blue apple"))
    assert red[0] - red[2] > blue[0] - blue[2] + 60
    forest = channel_means(gen(provider, "a deep green forest"))
    assert forest[1] > forest[0] and forest[1] > forest[2]


def test_negative_prompt_drops_its_colours(provider: LocalProvider) -> None:
    both = channel_means(gen(provider, "red and blue stripes", seed=3))
    no_blue = channel_means(gen(provider, "red and blue stripes", seed=3, negative_prompt="blue"))
    assert no_blue[2] < both[2] - 10


def test_every_style_preset_changes_the_picture(provider: LocalProvider) -> None:
    plain = gen(provider, "a fox in a forest", size=(200, 120))
    for style in get_catalog().style_presets():
        styled = gen(provider, "a fox in a forest", size=(200, 120), style_preset=style)
        assert styled.size == (200, 120)
        if style != "enhance":
            assert mean_diff(plain, styled) > 2, style


def test_line_art_is_lines_on_white_and_pixel_art_is_blocky(provider: LocalProvider) -> None:
    lines = gen(provider, "a fox in a forest", size=(300, 300), style_preset="line-art").convert("L")
    hist = lines.histogram()
    assert sum(hist[240:]) > 0.6 * 300 * 300  # mostly white paper
    assert sum(hist[:80]) > 0.01 * 300 * 300  # with dark lines
    pixels = gen(provider, "a fox in a forest", size=(480, 480), style_preset="pixel-art")
    cell = 480 // 48
    block = pixels.crop((cell * 3, cell * 3, cell * 4, cell * 4))
    assert len(block.getcolors() or []) == 1  # one colour per pixel-art cell


def test_the_prompt_is_written_in_a_corner() -> None:
    with_label = render("hello world", 5, (400, 300))
    without = render("hello world", 5, (400, 300), with_label=False)
    corner = Image.new("L", (400, 300), 0)
    ImageDraw.Draw(corner).rectangle((0, 250, 200, 300), fill=255)
    assert mean_diff(with_label, without, corner) > 1
    assert mean_diff(with_label, without, ImageChops.invert(corner)) == 0


def test_generate_refuses_absurd_sizes(provider: LocalProvider) -> None:
    with pytest.raises(ProviderRejected):
        provider.generate(GenerateRequest(prompt="x", model="local-pillow", width=0, height=10))
    with pytest.raises(ProviderRejected):
        provider.generate(GenerateRequest(prompt="x", model="local-pillow", width=20000, height=10))


# ----------------------------------------------------------------------------------------- edits


def edit(provider: LocalProvider, image: Image.Image, operation: str, **kw: Any) -> Image.Image:
    request = EditRequest(operation=operation, image=media(image), **kw)  # type: ignore[arg-type]
    result = provider.edit(request)
    return opened(only(result))


def test_remove_background_cuts_the_subject_out(provider: LocalProvider) -> None:
    scene = subject_scene()
    out = edit(provider, scene, "remove_background")
    assert out.mode == "RGBA"
    alpha = out.getchannel("A")
    w, h = out.size
    for corner in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (5, h // 2)):
        assert alpha.getpixel(corner) == 0
    assert alpha.getpixel((int(w * 0.38), int(h * 0.5))) == 255  # on the disc
    assert alpha.getpixel((w // 2, h // 2)) == 255  # backdrop-coloured, but inside the subject
    edge = [alpha.getpixel((x, h // 2)) for x in range(int(w * 0.25), int(w * 0.35))]
    assert any(isinstance(v, int) and 0 < v < 255 for v in edge)  # feathered edge


def test_outpaint_grows_the_canvas_exactly_and_keeps_the_original(provider: LocalProvider) -> None:
    scene = subject_scene((200, 150))
    out = edit(provider, scene, "outpaint", left=30, right=70, up=10, down=45, prompt="a beach")
    assert out.size == (200 + 30 + 70, 150 + 10 + 45)
    kept = out.convert("RGB").crop((30 + 4, 10 + 4, 30 + 196, 10 + 146))
    assert mean_diff(kept, scene.crop((4, 4, 196, 146))) < 1
    # the new strip continues the backdrop rather than being empty
    strip = out.convert("RGB").crop((0, 0, 30, out.height))
    assert mean_diff(strip, Image.new("RGB", strip.size, BG)) < 60


def test_inpaint_changes_the_mask_and_not_the_rest(provider: LocalProvider) -> None:
    scene = subject_scene((240, 180))
    mask = Image.new("L", scene.size, 0)
    ImageDraw.Draw(mask).rectangle((150, 20, 230, 90), fill=255)
    out = edit(
        provider, scene, "inpaint", mask=media(mask), prompt="a bright yellow sun", grow_mask=2
    ).convert("RGB")
    assert out.size == scene.size
    inside = Image.new("L", scene.size, 0)
    ImageDraw.Draw(inside).rectangle((155, 25, 225, 85), fill=255)
    outside = Image.new("L", scene.size, 255)
    ImageDraw.Draw(outside).rectangle((140, 10, 240, 100), fill=0)
    assert mean_diff(out, scene, inside) > 40
    assert mean_diff(out, scene, outside) < 0.5
    r, g, b = channel_means(out, inside)
    assert r > b and g > b  # yellowish


def test_search_replace_without_mask_finds_the_named_thing(provider: LocalProvider) -> None:
    scene = subject_scene((240, 180))
    out = edit(provider, scene, "search_replace", search_prompt="the red ball", prompt="a green tennis ball")
    disc = Image.new("L", scene.size, 0)
    ImageDraw.Draw(disc).ellipse((240 * 0.33, 180 * 0.25, 240 * 0.42, 180 * 0.8), fill=255)
    far = Image.new("L", scene.size, 0)
    ImageDraw.Draw(far).rectangle((0, 0, 40, 180), fill=255)
    assert mean_diff(out, scene, disc) > 40
    assert mean_diff(out, scene, far) < 1
    assert channel_means(out, disc)[1] > channel_means(scene, disc)[1] + 40  # greener


def test_search_replace_without_a_colour_uses_the_salient_subject(provider: LocalProvider) -> None:
    scene = subject_scene((240, 180))
    out = edit(provider, scene, "search_replace", search_prompt="the thing", prompt="blue ocean")
    disc = Image.new("L", scene.size, 0)
    ImageDraw.Draw(disc).ellipse((240 * 0.33, 180 * 0.25, 240 * 0.42, 180 * 0.8), fill=255)
    assert mean_diff(out, scene, disc) > 40


def test_search_recolor_turns_a_red_square_blue(provider: LocalProvider) -> None:
    im = Image.new("RGB", (160, 120), (240, 240, 240))
    ImageDraw.Draw(im).rectangle((40, 30, 100, 90), fill=(220, 30, 30))
    ImageDraw.Draw(im).rectangle((120, 10, 150, 40), fill=(30, 160, 40))
    out = edit(provider, im, "search_recolor", select_prompt="the red square", prompt="deep blue").convert(
        "RGB"
    )
    r, g, b = out.getpixel((70, 60))  # type: ignore[misc]
    assert b > 150 and r < 80 and g < 80
    assert out.getpixel((135, 25)) == (30, 160, 40)  # the green square is not touched
    assert out.getpixel((5, 5)) == (240, 240, 240)


def test_relight_replaces_the_background_and_keeps_the_subject(provider: LocalProvider) -> None:
    scene = subject_scene((240, 180))
    result = provider.edit(
        EditRequest(
            operation="relight",
            image=media(scene),
            background_prompt="a purple night sky",
            light_source_direction="left",
            light_source_strength=0.8,
        )
    )
    out = opened(only(result)).convert("RGB")
    assert out.size == scene.size
    corner = Image.new("L", scene.size, 0)
    ImageDraw.Draw(corner).rectangle((0, 0, 40, 40), fill=255)
    assert mean_diff(out, scene, corner) > 40
    subject = Image.new("L", scene.size, 0)
    ImageDraw.Draw(subject).ellipse((85, 50, 100, 140), fill=255)
    r, g, b = channel_means(out, subject)
    assert r > g and r > b  # still the red subject


def test_erase_fills_with_the_surroundings(provider: LocalProvider) -> None:
    im = Image.new("RGB", (200, 150), (120, 180, 120))
    ImageDraw.Draw(im).rectangle((80, 50, 120, 100), fill=(20, 20, 200))
    mask = Image.new("L", im.size, 0)
    ImageDraw.Draw(mask).rectangle((76, 46, 124, 104), fill=255)
    out = edit(provider, im, "erase", mask=media(mask))
    r, g, b = channel_means(out, mask)
    assert abs(r - 120) < 12 and abs(g - 180) < 12 and abs(b - 120) < 12


def test_general_edit_grades_by_prompt_and_respects_the_mask(provider: LocalProvider) -> None:
    scene = subject_scene((160, 120))
    mono = edit(provider, scene, "general_edit", prompt="make it black and white").convert("HSV")
    assert ImageStat.Stat(mono.getchannel("S")).extrema[0][1] == 0
    purple = edit(provider, scene, "general_edit", prompt="purple galaxy")
    assert mean_diff(purple, scene) > 15
    mask = Image.new("L", scene.size, 0)
    ImageDraw.Draw(mask).rectangle((0, 0, 60, 120), fill=255)
    half = edit(provider, scene, "general_edit", prompt="purple galaxy", mask=media(mask))
    right = Image.new("L", scene.size, 0)
    ImageDraw.Draw(right).rectangle((80, 0, 160, 120), fill=255)
    assert mean_diff(half, scene, right) < 0.5


def test_edits_keep_transparency_and_write_jpeg_flattened(provider: LocalProvider) -> None:
    cutout = edit(provider, subject_scene(), "remove_background")
    graded = edit(provider, cutout, "general_edit", prompt="warm")
    assert graded.mode == "RGBA"
    assert graded.getchannel("A").getpixel((0, 0)) == 0
    flat = provider.edit(
        EditRequest(operation="remove_background", image=media(subject_scene()), output_format="jpeg")
    )
    assert opened(only(flat)).mode == "RGB"


def test_a_file_that_is_not_an_image_is_refused(provider: LocalProvider) -> None:
    with pytest.raises(ProviderRejected):
        provider.edit(
            EditRequest(operation="inpaint", image=Media(data=b"%PDF-1.7 nope", mime="application/pdf"))
        )


# ----------------------------------------------------------------------------------------- upscale


def test_fast_upscale_is_exactly_four_times(provider: LocalProvider) -> None:
    src = gen(provider, "a city skyline", size=(123, 77))
    out = opened(only(provider.upscale(UpscaleRequest(mode="fast", image=media(src)))))
    assert out.size == (492, 308)
    back = out.convert("RGB").resize(src.size, Image.Resampling.BOX)
    assert mean_diff(back, src) < 6  # the same picture, bigger


def test_conservative_upscale_hits_the_target_long_side(provider: LocalProvider) -> None:
    src = gen(provider, "a city skyline", size=(300, 200))
    out = opened(
        only(provider.upscale(UpscaleRequest(mode="conservative", image=media(src), target_long_side=1000)))
    )
    assert out.size == (1000, 667)
    portrait = gen(provider, "a tower", size=(90, 160))
    default = opened(only(provider.upscale(UpscaleRequest(mode="conservative", image=media(portrait)))))
    assert default.size == (360, 640)  # no target: 4x up to a 3840 px long side


def test_creative_upscale_is_a_job_that_ends_at_the_target() -> None:
    provider = LocalProvider(faults=Faults(), poll_after=0, polls_to_finish=1)
    src = gen(provider, "a city skyline", size=(120, 80))
    submitted = provider.upscale(UpscaleRequest(mode="creative", image=media(src), target_long_side=480))
    assert isinstance(submitted, Submitted)
    provider.poll(submitted.provider_job_id)
    out = opened(only(provider.poll(submitted.provider_job_id)))
    assert out.size == (480, 320)


def test_upscale_keeps_alpha(provider: LocalProvider) -> None:
    cutout = edit(provider, subject_scene((60, 40)), "remove_background")
    out = opened(only(provider.upscale(UpscaleRequest(mode="fast", image=media(cutout)))))
    assert out.mode == "RGBA" and out.size == (240, 160)
    assert out.getchannel("A").getpixel((0, 0)) == 0


# ----------------------------------------------------------------------------------------- control


def sketch() -> Image.Image:
    im = Image.new("RGB", (256, 192), "white")
    draw = ImageDraw.Draw(im)
    draw.rectangle((30, 30, 120, 150), outline="black", width=3)
    draw.ellipse((140, 40, 230, 130), outline="black", width=3)
    draw.line((20, 170, 236, 170), fill="black", width=3)
    return im


def test_sketch_output_follows_the_lines(provider: LocalProvider) -> None:
    src = sketch()
    out = opened(
        only(provider.control(ControlRequest(operation="sketch", image=media(src), prompt="a red barn")))
    )
    assert out.size == src.size
    grey = out.convert("L")
    lines = src.convert("L").point(lambda v: 255 if v < 128 else 0)
    away = ImageChops.invert(lines.filter(ImageFilter.MaxFilter(9)))
    on_lines = ImageStat.Stat(grey, mask=lines).mean[0]
    off_lines = ImageStat.Stat(grey, mask=away).mean[0]
    assert off_lines - on_lines > 60
    weak = opened(
        only(
            provider.control(
                ControlRequest(
                    operation="sketch", image=media(src), prompt="a red barn", control_strength=0.0
                )
            )
        )
    )
    assert ImageStat.Stat(weak.convert("L"), mask=lines).mean[0] > on_lines + 20  # strength matters


def test_structure_keeps_the_edges_of_a_photo(provider: LocalProvider) -> None:
    src = subject_scene((240, 180))
    out = opened(
        only(provider.control(ControlRequest(operation="structure", image=media(src), prompt="blue ocean")))
    )
    assert out.size == src.size
    grey = out.convert("L")
    outline = Image.new("L", src.size, 0)
    ImageDraw.Draw(outline).ellipse((240 * 0.3, 180 * 0.2, 240 * 0.7, 180 * 0.85), outline=255, width=2)
    inside = Image.new("L", src.size, 0)
    ImageDraw.Draw(inside).ellipse((240 * 0.34, 180 * 0.26, 240 * 0.42, 180 * 0.4), fill=255)
    assert ImageStat.Stat(grey, mask=inside).mean[0] - ImageStat.Stat(grey, mask=outline).mean[0] > 15
    assert channel_means(out)[2] > channel_means(out)[0]  # the prompt's colours


def test_style_paints_in_the_reference_palette(provider: LocalProvider) -> None:
    reference = Image.new("RGB", (120, 120), (20, 140, 60))
    ImageDraw.Draw(reference).ellipse((20, 20, 100, 100), fill=(240, 220, 60))
    styled = opened(
        only(
            provider.control(
                ControlRequest(
                    operation="style",
                    image=media(reference),
                    prompt="a red car",
                    aspect_ratio="16:9",
                    fidelity=1.0,
                )
            )
        )
    )
    assert styled.size == (1024, 576)
    plain = gen(provider, "a red car", size=(1024, 576))
    assert channel_means(styled)[1] > channel_means(plain)[1] + 30


def test_style_transfer_moves_the_content_to_the_style_colours(provider: LocalProvider) -> None:
    content = subject_scene((200, 150))
    style = Image.new("RGB", (90, 90), (30, 60, 200))
    ImageDraw.Draw(style).rectangle((0, 0, 45, 90), fill=(10, 20, 90))
    out = opened(
        only(
            provider.control(
                ControlRequest(operation="style_transfer", image=media(content), style_image=media(style))
            )
        )
    )
    assert out.size == content.size
    before, after = channel_means(content), channel_means(out)
    assert after[2] - after[0] > before[2] - before[0] + 40  # bluer
    with pytest.raises(ProviderRejected):
        provider.control(ControlRequest(operation="style_transfer", image=media(content)))
