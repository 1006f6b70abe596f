"""The offline provider's simulated queue and fault switches."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator

import pytest
from PIL import Image

from imagestudio.errors import ContentRejected
from imagestudio.providers.base import (
    EditRequest,
    Failed,
    GenerateRequest,
    Media,
    Output,
    ProviderUnavailable,
    Running,
    Submitted,
    Succeeded,
    ThreeDRequest,
    UpscaleRequest,
    VideoRequest,
)
from imagestudio.providers.local import FaultRule, Faults, LocalProvider, queue, reset_jobs
from imagestudio.providers.local.faults import ENV_VAR


@pytest.fixture(autouse=True)
def _clean_jobs() -> Iterator[None]:
    reset_jobs()
    yield
    reset_jobs()


def image(size: tuple[int, int] = (96, 64)) -> Media:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, "PNG")
    return Media(data=buffer.getvalue(), mime="image/png", width=size[0], height=size[1])


def video_request() -> VideoRequest:
    return VideoRequest(image=image(), model="wan-2.5-image-to-video", resolution="480p", duration=1)


def generate_request() -> GenerateRequest:
    return GenerateRequest(prompt="a red kite", model="local-pillow", width=48, height=32, seed=1)


def make(faults: str = "", **kw: object) -> LocalProvider:
    return LocalProvider(faults=Faults(faults), poll_after=0, video_fps=1, **kw)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------- queue


def test_video_is_submitted_then_runs_with_rising_progress_then_succeeds() -> None:
    provider = make()
    submitted = provider.image_to_video(video_request())
    assert isinstance(submitted, Submitted)
    assert submitted.poll_after == 0
    progress: list[int] = []
    for _ in range(3):
        answer = provider.poll(submitted.provider_job_id)
        assert isinstance(answer, Running)
        assert answer.progress is not None
        progress.append(answer.progress)
    assert progress == sorted(progress) and len(set(progress)) == 3 and progress[0] > 0 and progress[-1] < 100
    done = provider.poll(submitted.provider_job_id)
    assert isinstance(done, Succeeded)
    assert done.provider_job_id == submitted.provider_job_id
    assert done.outputs[0].mime == "image/webp" and done.outputs[0].duration == 1.0
    again = provider.poll(submitted.provider_job_id)
    assert isinstance(again, Succeeded) and again.outputs == done.outputs  # computed once


def test_outputs_are_computed_lazily_at_completion() -> None:
    provider = make()
    calls: list[int] = []
    submitted = provider.image_to_3d(ThreeDRequest(image=image(), model="stable-fast-3d"))
    assert isinstance(submitted, Submitted)
    job = queue.get(submitted.provider_job_id)
    assert job is not None and job.compute is not None and job.outputs is None
    original = job.compute

    def counting() -> list[Output]:
        calls.append(1)
        return original()

    job.compute = counting
    for _ in range(3):
        provider.poll(submitted.provider_job_id)
    assert calls == []
    assert isinstance(provider.poll(submitted.provider_job_id), Succeeded)
    assert calls == [1]


def test_jobs_survive_across_provider_instances() -> None:
    submitted = make().image_to_video(video_request())
    assert isinstance(submitted, Submitted)
    answers = [make().poll(submitted.provider_job_id) for _ in range(4)]
    assert [type(a) for a in answers] == [Running, Running, Running, Succeeded]


def test_concurrent_polls_compute_once() -> None:
    provider = make(polls_to_finish=0)
    submitted = provider.image_to_3d(ThreeDRequest(image=image(), model="stable-fast-3d"))
    assert isinstance(submitted, Submitted)
    results: list[object] = []

    def poll() -> None:
        results.append(provider.poll(submitted.provider_job_id))

    threads = [threading.Thread(target=poll) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, Succeeded) for r in results)
    first = results[0]
    assert isinstance(first, Succeeded)
    assert all(isinstance(r, Succeeded) and r.outputs is first.outputs for r in results)


def test_cancel_stops_a_job() -> None:
    provider = make()
    submitted = provider.image_to_video(video_request())
    assert isinstance(submitted, Submitted)
    assert isinstance(provider.poll(submitted.provider_job_id), Running)
    assert provider.cancel(submitted.provider_job_id) is True
    answer = provider.poll(submitted.provider_job_id)
    assert isinstance(answer, Failed) and answer.code == "canceled" and not answer.retryable
    assert provider.cancel(submitted.provider_job_id) is False
    assert provider.cancel("no-such-job") is False


def test_unknown_job_fails_without_retry() -> None:
    answer = make().poll("local-image-to-video-deadbeef")
    assert isinstance(answer, Failed) and answer.code == "job_not_found" and not answer.retryable


def test_which_capabilities_are_asynchronous() -> None:
    provider = make()
    assert isinstance(provider.generate(generate_request()), Succeeded)
    assert isinstance(provider.edit(EditRequest(operation="inpaint", image=image(), prompt="sky")), Succeeded)
    assert isinstance(
        provider.edit(EditRequest(operation="relight", image=image(), background_prompt="sky")), Submitted
    )
    assert isinstance(provider.upscale(UpscaleRequest(mode="fast", image=image())), Succeeded)
    assert isinstance(provider.upscale(UpscaleRequest(mode="creative", image=image())), Submitted)
    assert isinstance(provider.image_to_3d(ThreeDRequest(image=image(), model="m")), Submitted)
    assert isinstance(make(async_jobs=True).generate(generate_request()), Submitted)
    assert isinstance(make(async_jobs=False).image_to_video(video_request()), Succeeded)
    assert isinstance(make("generate:async").generate(generate_request()), Submitted)
    assert isinstance(make("video:sync").image_to_video(video_request()), Succeeded)


def test_the_job_answer_is_the_same_file_a_synchronous_call_makes() -> None:
    provider = make("generate:async", polls_to_finish=1)
    submitted = provider.generate(generate_request())
    assert isinstance(submitted, Submitted)
    provider.poll(submitted.provider_job_id)
    done = provider.poll(submitted.provider_job_id)
    assert isinstance(done, Succeeded)
    direct = make().generate(generate_request())
    assert isinstance(direct, Succeeded)
    assert done.outputs[0].data == direct.outputs[0].data


def test_a_renderer_error_inside_a_job_becomes_failed() -> None:
    provider = make(polls_to_finish=0)
    submitted = provider.image_to_video(
        VideoRequest(image=image(), model="m", audio=None, resolution="480p", duration=1)
    )
    assert isinstance(submitted, Submitted)
    job = queue.get(submitted.provider_job_id)
    assert job is not None

    def boom() -> list[Output]:
        raise RuntimeError("renderer broke")

    job.compute = boom
    answer = provider.poll(submitted.provider_job_id)
    assert (
        isinstance(answer, Failed) and answer.code == "provider_error" and "renderer broke" in answer.reason
    )


# ----------------------------------------------------------------------------------------- faults


@pytest.mark.parametrize(("fault", "status"), [("outage", 503), ("429", 429), ("500", 500), ("timeout", 504)])
def test_transient_faults_raise_provider_unavailable(fault: str, status: int) -> None:
    provider = make(fault)
    with pytest.raises(ProviderUnavailable) as caught:
        provider.generate(generate_request())
    assert caught.value.details["status"] == status
    assert caught.value.details["retryable"] is True
    assert caught.value.details["provider"] == "local"
    if fault == "429":
        assert caught.value.details["retry_after"] == 1.0


def test_moderation_raises_content_rejected() -> None:
    with pytest.raises(ContentRejected) as caught:
        make("moderation").edit(EditRequest(operation="general_edit", image=image(), prompt="x"))
    assert caught.value.details["status"] == 403


def test_fail_job_ends_the_job_failed_after_running() -> None:
    provider = make("video:fail_job")
    submitted = provider.image_to_video(video_request())
    assert isinstance(submitted, Submitted)
    answers = [provider.poll(submitted.provider_job_id) for _ in range(5)]
    assert [type(a) for a in answers[:3]] == [Running, Running, Running]
    assert isinstance(answers[3], Failed) and answers[3].code == "provider_job_failed"
    assert answers[4] == answers[3]


def test_never_finish_keeps_running() -> None:
    provider = make("never_finish")
    submitted = provider.image_to_video(video_request())
    assert isinstance(submitted, Submitted)
    answers = [provider.poll(submitted.provider_job_id) for _ in range(12)]
    assert all(isinstance(a, Running) for a in answers)
    progress = [a.progress for a in answers if isinstance(a, Running) and a.progress is not None]
    assert progress == sorted(progress) and progress[-1] < 100
    assert provider.cancel(submitted.provider_job_id) is True


def test_counted_faults_fire_then_let_calls_through() -> None:
    provider = make("429*2")
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            provider.generate(generate_request())
    assert isinstance(provider.generate(generate_request()), Succeeded)


def test_faults_are_scoped_by_capability_operation_and_provider() -> None:
    provider = make("edit:inpaint:outage")
    assert isinstance(provider.generate(generate_request()), Succeeded)
    assert isinstance(
        provider.edit(EditRequest(operation="general_edit", image=image(), prompt="x")), Succeeded
    )
    with pytest.raises(ProviderUnavailable):
        provider.edit(EditRequest(operation="inpaint", image=image(), prompt="x"))

    faults = Faults("wavespeed:outage")
    assert isinstance(LocalProvider(faults=faults).generate(generate_request()), Succeeded)
    stand_in = LocalProvider(simulating="wavespeed", faults=faults)
    assert stand_in.name == "wavespeed"
    with pytest.raises(ProviderUnavailable) as caught:
        stand_in.generate(generate_request())
    assert caught.value.details["provider"] == "wavespeed"


def test_a_stand_in_names_itself_in_its_outputs() -> None:
    result = LocalProvider(simulating="stability", faults=Faults()).generate(generate_request())
    assert isinstance(result, Succeeded)
    assert result.outputs[0].extra["provider"] == "stability" and result.outputs[0].extra["simulated"] is True


def test_poll_scoped_faults_hit_polls_only() -> None:
    provider = make("poll:500*1")
    submitted = provider.image_to_video(video_request())
    assert isinstance(submitted, Submitted)
    with pytest.raises(ProviderUnavailable):
        provider.poll(submitted.provider_job_id)
    assert isinstance(provider.poll(submitted.provider_job_id), Running)


def test_faults_from_the_environment_keep_their_counts_across_instances(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_VAR, "generate:timeout*1, wavespeed:moderation")
    with pytest.raises(ProviderUnavailable):
        LocalProvider().generate(generate_request())
    assert isinstance(LocalProvider().generate(generate_request()), Succeeded)  # the one timeout is spent
    with pytest.raises(ContentRejected):
        LocalProvider(simulating="wavespeed").generate(generate_request())
    env_faults = LocalProvider(environ={ENV_VAR: "outage"}).faults
    assert [str(r) for r in env_faults.rules] == ["outage"]


def test_fault_specs_parse_aliases_and_refuse_unknown_kinds() -> None:
    faults = Faults("rate_limit*3, 3d:hang , wavespeed:video:503")
    assert faults.rules == (
        FaultRule(kind="429", count=3),
        FaultRule(kind="never_finish", scopes=("image-to-3d",)),
        FaultRule(kind="outage", scopes=("wavespeed", "image-to-video")),
    )
    assert not Faults() and not Faults.parse(None) and Faults("outage")
    with pytest.raises(ValueError, match="unknown fault"):
        Faults("explode")
    with pytest.raises(ValueError, match="positive integer"):
        Faults("429*x")
