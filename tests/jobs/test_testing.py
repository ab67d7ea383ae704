"""``loom.jobs.testing``: run jobs in the test process, assert dispatches, drain."""

from __future__ import annotations

import pytest
from tests.jobs._support import backend_params
from tests.jobs.conftest import RuntimeFactory
from tests.jobs.flows import FLOW_MODULES, DispatchNotes, Flaky, RecordingJob

from loom.core.job.service import JobStatus
from loom.jobs.testing import JobTester, job_tester


@pytest.fixture(autouse=True)
def reset() -> None:
    RecordingJob.calls.clear()


@pytest.mark.parametrize("backend", backend_params("inline", "stub"))
async def test_assert_dispatched_matches_job_params_payload_and_count(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend, modules=FLOW_MODULES)
    async with job_tester(runtime) as jobs:
        await runtime.application.invoker.invoke(DispatchNotes, payload={"text": "t", "count": 2})
        states = await jobs.drain(timeout=20)
        assert [s.status for s in states] == [JobStatus.SUCCEEDED] * 2
        jobs.assert_dispatched(RecordingJob, count=2)
        (one,) = jobs.assert_dispatched(RecordingJob, payload={"text": "t-1"})
        assert one.job_id == states[1].job_id
        assert jobs.dispatched_of(Flaky) == []
        with pytest.raises(AssertionError, match="dispatched 2 time"):
            jobs.assert_dispatched(RecordingJob, count=3)
        with pytest.raises(AssertionError, match="was not dispatched"):
            jobs.assert_dispatched(Flaky)
        with pytest.raises(AssertionError, match="was not dispatched"):
            jobs.assert_dispatched(RecordingJob, params={"nope": 1})
    assert sorted(RecordingJob.calls) == ["t-0", "t-1"]


async def test_drain_times_out_naming_what_is_left(make_runtime: RuntimeFactory) -> None:
    runtime = await make_runtime("inline", modules=FLOW_MODULES)
    async with job_tester(runtime) as jobs:
        with pytest.raises(TimeoutError, match="0 of 1 expected"):
            await jobs.drain(timeout=0.1, expect=1)


async def test_a_tester_stops_recording_when_detached(make_runtime: RuntimeFactory) -> None:
    runtime = await make_runtime("inline", modules=FLOW_MODULES)
    service = runtime.jobs.service  # type: ignore[union-attr]
    tester = JobTester(service)
    tester.detach()
    await runtime.application.invoker.invoke(DispatchNotes, payload={"text": "quiet"})
    await service.drain(timeout=5)
    assert tester.dispatched == []
    assert RecordingJob.calls == ["quiet-0"]


async def test_job_tester_refuses_what_has_no_job_runtime() -> None:
    with pytest.raises(TypeError, match="no job runtime"):
        async with job_tester(object()):  # type: ignore[arg-type]
            pass
