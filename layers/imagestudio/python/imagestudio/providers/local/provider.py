"""LocalProvider: the offline provider. Every capability makes real files with Pillow (see the modules
next to this one); the asynchronous ones go through the simulated queue; fault switches make it fail
the ways real providers do.

Knobs (constructor argument, else environment variable, else default):
- faults: `Faults` or a spec string; LOCAL_PROVIDER_FAULTS; none.
- polls_to_finish: Running answers before a job completes; LOCAL_PROVIDER_POLLS; 3.
- poll_after: seconds a Submitted/Running answer asks the caller to wait; LOCAL_PROVIDER_POLL_AFTER; 2.
- video_fps / max_frames: clip frame rate and frame cap; LOCAL_PROVIDER_VIDEO_FPS / ..._MAX_FRAMES;
  8 / 240.
- async_jobs: None = the real providers' split (image-to-video, talking-avatar, image-to-3d, upscale
  creative and edit relight answer Submitted; the rest answer at once); True = everything is a job;
  False = nothing is. The `async` / `sync` fault switches override it per scope.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Final, TypeVar

from imagestudio.config import LocalProviderSettings
from imagestudio.imaging.faceswap import check_faces, swap_face
from imagestudio.providers.base import (
    AvatarRequest,
    BaseProvider,
    CallResult,
    ControlRequest,
    EditRequest,
    FaceSwapRequest,
    GenerateRequest,
    Output,
    PollResult,
    Succeeded,
    ThreeDRequest,
    UpscaleRequest,
    VideoRequest,
)
from imagestudio.providers.local import control, edit, generate, mesh, motion, queue, upscale
from imagestudio.providers.local.common import (
    check_size,
    effective_seed,
    image_output,
    open_image,
    stable_int,
)
from imagestudio.providers.local.faults import Faults

#: (capability, operation) pairs that run as jobs at the real providers; operation None = all.
ASYNC_BY_DEFAULT: Final = frozenset(
    {
        ("image-to-video", None),
        ("talking-avatar", None),
        ("image-to-3d", None),
        ("upscale", "creative"),
        ("edit", "relight"),
    }
)


T = TypeVar("T")


def _first(*values: T | None) -> T:
    """The first value that is set (the last is the default)."""
    return next(v for v in values if v is not None)


def _digest(data: bytes) -> int:
    return stable_int(len(data), data[:8192], data[-8192:])


class LocalProvider(BaseProvider):
    """The offline provider; `simulating="wavespeed"` stands it in for a named provider (its `name`
    becomes that name, and faults scoped to that name apply)."""

    def __init__(
        self,
        name: str | None = None,
        *,
        simulating: str | None = None,
        faults: Faults | str | None = None,
        polls_to_finish: int | None = None,
        poll_after: float | None = None,
        video_fps: int | None = None,
        max_frames: int | None = None,
        async_jobs: bool | None = None,
        environ: Mapping[str, str] | None = None,
        settings: LocalProviderSettings | None = None,
    ) -> None:
        # Knobs not given come from `settings`, else the `environ` mapping, else the function's settings.
        knobs = settings or LocalProviderSettings.from_env(environ)
        self.name = name or simulating or "local"
        self.simulating = simulating
        if isinstance(faults, Faults):
            self.faults = faults
        elif isinstance(faults, str):
            self.faults = Faults.parse(faults)
        elif settings is not None:
            self.faults = Faults.parse(settings.faults)
        else:
            self.faults = Faults.from_env(environ)
        self.polls_to_finish = int(_first(polls_to_finish, knobs.polls, 3))
        self.poll_after = float(_first(poll_after, knobs.poll_after, 2.0))
        self.video_fps = max(1, int(_first(video_fps, knobs.video_fps, motion.DEFAULT_FPS)))
        self.max_frames = max(1, int(_first(max_frames, knobs.max_frames, motion.DEFAULT_MAX_FRAMES)))
        self.async_jobs = async_jobs
        # Seconds each call waits, like a remote provider's response time (benchmarks; 0 by default).
        self.latency = max(0.0, float(_first(None, knobs.latency, 0.0)))

    def __repr__(self) -> str:
        return f"LocalProvider(name={self.name!r}, faults={self.faults!r})"

    # ------------------------------------------------------------------------------------- plumbing

    def _context(self, capability: str, operation: str | None, model: str | None) -> frozenset[str]:
        return frozenset(x for x in (self.name, capability, operation, model) if x)

    def _run(
        self,
        capability: str,
        operation: str | None,
        model: str | None,
        compute: Callable[[], list[Output]],
    ) -> CallResult:
        context = self._context(capability, operation, model)
        self.faults.check_call(self.name, context)
        if self.latency:
            time.sleep(self.latency)
        if self.faults.active("async", context):
            runs_async = True
        elif self.faults.active("sync", context):
            runs_async = False
        elif self.async_jobs is not None:
            runs_async = self.async_jobs
        else:
            runs_async = (capability, None) in ASYNC_BY_DEFAULT or (capability, operation) in ASYNC_BY_DEFAULT
        if not runs_async:
            return Succeeded(outputs=compute(), cost_usd="0")
        return queue.submit(
            provider=self.name,
            capability=capability,
            operation=operation,
            compute=compute,
            steps=self.polls_to_finish,
            poll_after=self.poll_after,
            fail=self.faults.active("fail_job", context),
            never_finish=self.faults.active("never_finish", context),
        )

    def _extra(self, capability: str, operation: str | None = None) -> dict[str, object]:
        extra: dict[str, object] = {"provider": self.name, "capability": capability}
        if operation:
            extra["operation"] = operation
        if self.simulating:
            extra["simulated"] = True
        return extra

    # ------------------------------------------------------------------------------------- capabilities

    def generate(self, request: GenerateRequest) -> CallResult:
        check_size(request.width, request.height)
        seed = effective_seed(request.seed, request.prompt, request.style_preset)

        def compute() -> list[Output]:
            im = generate.render(
                request.prompt,
                seed,
                (request.width, request.height),
                request.style_preset,
                request.negative_prompt,
            )
            return [
                image_output(
                    im,
                    request.output_format,
                    seed=seed,
                    style_preset=request.style_preset,
                    **self._extra("text-to-image"),
                )
            ]

        return self._run("text-to-image", None, request.model, compute)

    def edit(self, request: EditRequest) -> CallResult:
        open_image(request.image)  # a bad input is refused now, not when a job completes
        seed = edit.seed_for(request)

        def compute() -> list[Output]:
            im = edit.apply(request, seed)
            return [
                image_output(im, request.output_format, seed=seed, **self._extra("edit", request.operation))
            ]

        return self._run("edit", request.operation, request.model, compute)

    def upscale(self, request: UpscaleRequest) -> CallResult:
        image = open_image(request.image)
        check_size(*upscale.target_size(image.size, request.mode, request.target_long_side))
        seed = effective_seed(request.seed, request.mode, request.prompt, _digest(request.image.data))

        def compute() -> list[Output]:
            im = upscale.upscale(image, request, seed)
            return [
                image_output(im, request.output_format, seed=seed, **self._extra("upscale", request.mode))
            ]

        return self._run("upscale", request.mode, None, compute)

    def control(self, request: ControlRequest) -> CallResult:
        open_image(request.image)
        seed = effective_seed(request.seed, request.operation, request.prompt, _digest(request.image.data))

        def compute() -> list[Output]:
            im = control.apply(request, seed)
            return [
                image_output(
                    im, request.output_format, seed=seed, **self._extra("control", request.operation)
                )
            ]

        return self._run("control", request.operation, None, compute)

    def image_to_video(self, request: VideoRequest) -> CallResult:
        image = open_image(request.image)
        motion.output_size(request.resolution, image.size)
        motion.frame_plan(float(request.duration), self.video_fps, self.max_frames)
        seed = effective_seed(request.seed, request.prompt, _digest(request.image.data))

        def compute() -> list[Output]:
            out = motion.video(
                image,
                resolution=request.resolution,
                seconds=float(request.duration),
                prompt=request.prompt,
                seed=seed,
                fps=self.video_fps,
                max_frames=self.max_frames,
            )
            out.extra.update(self._extra("image-to-video"))
            return [out]

        return self._run("image-to-video", None, request.model, compute)

    def talking_avatar(self, request: AvatarRequest) -> CallResult:
        image = open_image(request.image)
        motion.output_size(request.resolution, image.size)
        motion.frame_plan(motion.audio_seconds(request.audio), self.video_fps, self.max_frames)
        seed = effective_seed(
            request.seed, request.prompt, _digest(request.image.data), _digest(request.audio.data)
        )

        def compute() -> list[Output]:
            out = motion.avatar(
                image,
                request.audio,
                resolution=request.resolution,
                seed=seed,
                fps=self.video_fps,
                max_frames=self.max_frames,
            )
            out.extra.update(self._extra("talking-avatar"))
            return [out]

        return self._run("talking-avatar", None, request.model, compute)

    def image_to_3d(self, request: ThreeDRequest) -> CallResult:
        image = open_image(request.image)
        seed = effective_seed(request.seed, _digest(request.image.data))

        def compute() -> list[Output]:
            out = mesh.model_output(
                image,
                seed=seed,
                texture_resolution=request.texture_resolution,
                foreground_ratio=request.foreground_ratio,
            )
            out.extra.update(self._extra("image-to-3d"))
            if request.remesh not in (None, "none"):
                out.extra["remesh_ignored"] = request.remesh  # a height field is already a regular grid
            return [out]

        return self._run("image-to-3d", None, request.model, compute)

    def face_swap(self, request: FaceSwapRequest) -> CallResult:
        """A real swap: faces detected (OpenCV's cascades), aligned, colour-matched and blended."""
        base = open_image(request.image)
        face = open_image(request.face_image, "face image")
        check = check_faces(base, face, target_index=request.target_index)  # refused now, not in a job

        def compute() -> list[Output]:
            result = swap_face(base, face, target_index=request.target_index, check=check)
            box = result.target
            return [
                image_output(
                    result.image,
                    request.output_format,
                    seed=None,
                    target_face={"left": box.left, "top": box.top, "width": box.width, "height": box.height},
                    aligned_by=result.aligned_by,
                    blend=result.blend,
                    **self._extra("edit", "face_swap"),
                )
            ]

        return self._run("edit", "face_swap", request.model, compute)

    # ------------------------------------------------------------------------------------- jobs

    def poll(self, provider_job_id: str) -> PollResult:
        job = queue.get(provider_job_id)
        capability = job.capability if job is not None else "unknown"
        operation = job.operation if job is not None else None
        context = self._context(capability, operation, None) | {"poll"}
        self.faults.check_call(self.name, context)
        return queue.poll(
            provider_job_id,
            fail=lambda: self.faults.active("fail_job", context),
            never_finish=lambda: self.faults.active("never_finish", context),
        )

    def cancel(self, provider_job_id: str) -> bool:
        return queue.cancel(provider_job_id)
