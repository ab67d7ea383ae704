"""Job throughput on Redis: loom jobs against bare Dramatiq actors, in one run.

N trivial jobs are enqueued, then ONE worker process (same threads, same prefetch)
consumes them; jobs/s is measured from the moment the worker consumes to the last
completion. Four workloads:

- ``bare sync``: a Dramatiq actor ``def f(i): pass``;
- ``bare async``: ``async def f(i): await asyncio.sleep(0)`` (Dramatiq's AsyncIO middleware);
- ``loom sync body``: a loom Job whose ``execute`` never awaits;
- ``loom async body``: a loom Job whose ``execute`` awaits ``asyncio.sleep(0)``.

A loom job does more than the bare actor: its plan (params bound), a unit of work,
its final state in the status store (with ``redis``, in the round trip of the ack;
``running`` only for attempts longer than 50 ms). The worker uses ``memory://`` as
its database (trivial jobs touch none) and ``jobs.status_store`` as given (``redis``
by default). Also measured: enqueue rates — bare ``actor.send``, loom's message without
the outbox, and dispatch through the outbox (one job per use case, memory and SQLite).

Goal: loom ≥ 0.9x bare Dramatiq, async included. Needs Redis on 127.0.0.1:6379.

Run: make bench   (or .venv/bin/python tools/bench/jobs.py [--jobs 20000] [--threads 8])
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

from loom.core.job.job import Job

HERE = Path(__file__).resolve().parent
REDIS = "redis://127.0.0.1:6379/0"


class NoopJob(Job[None]):
    """The loom job whose body never awaits."""

    __queue__ = "bench"

    async def execute(self, i: int) -> None:
        return None


class AwaitJob(Job[None]):
    """The loom job whose body awaits once."""

    __queue__ = "bench"

    async def execute(self, i: int) -> None:
        await asyncio.sleep(0)


# -- worker processes ---------------------------------------------------------------------


def bare_worker(namespace: str, total: int, threads: int, prefetch: int, mode: str) -> None:
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.middleware import AsyncIO

    broker = RedisBroker(url=REDIS, namespace=namespace)
    done = threading.Event()
    count = [0]
    lock = threading.Lock()

    def tick() -> None:
        with lock:
            count[0] += 1
            if count[0] == total:
                done.set()

    if mode == "sync":

        @dramatiq.actor(broker=broker, queue_name=f"{namespace}.bench", actor_name="bare")
        def bare(i: int) -> None:
            tick()
    else:
        broker.add_middleware(AsyncIO())

        @dramatiq.actor(broker=broker, queue_name=f"{namespace}.bench", actor_name="bare")
        async def bare(i: int) -> None:
            await asyncio.sleep(0)
            tick()

    broker.emit_after("process_boot")
    worker = dramatiq.Worker(broker, worker_threads=threads)
    worker.queue_prefetch = prefetch
    worker.start()
    started, cpu = time.perf_counter(), time.process_time()
    done.wait()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    worker.stop()
    print(json.dumps({"elapsed": elapsed, "cpu": cpu}))


class _Counter:
    """A job observer that stops the worker after the last job."""

    def __init__(self, total: int, stop: threading.Event) -> None:
        self.total = total
        self.count = 0
        self.stop = stop
        self.last = 0.0
        self.cpu = 0.0

    def observe(self, job: str, queue: str, outcome: str, seconds: float) -> None:
        self.count += 1
        if self.count == self.total:
            self.last = time.perf_counter()
            self.cpu = time.process_time()
            self.stop.set()


def loom_worker(config: str, total: int, threads: int, prefetch: int) -> None:
    from loom.core.bootstrap import Runtime
    from loom.jobs._worker import WorkerOptions, run_worker

    stop = threading.Event()
    ready = threading.Event()
    counter = _Counter(total, stop)
    started = [0.0]

    def configure(runtime: Runtime) -> None:
        runtime.jobs.service.engine.observer = counter  # type: ignore[union-attr]

    def clock() -> None:
        ready.wait()
        started[0] = time.perf_counter()
        started.append(time.process_time())

    threading.Thread(target=clock, daemon=True).start()
    options = WorkerOptions(config=(config,), threads=threads, prefetch=prefetch)
    run_worker(options, stop, on_ready=[ready], configure=configure)
    cpu = counter.cpu - started[1]
    print(json.dumps({"elapsed": counter.last - started[0], "cpu": cpu, "count": counter.count}))


# -- the driver -------------------------------------------------------------------------------


def write_config(path: Path, namespace: str, status_store: str, database: str) -> str:
    config = {
        "app": {
            "name": "bench",
            "code_path": str(HERE),
            "secret_key": "bench",
            "discovery": {"mode": "modules", "modules": {"include": ["jobs"]}},
        },
        "database": {"url": database},
        "jobs": {
            "backend": "dramatiq",
            "broker": REDIS,
            "namespace": namespace,
            "status_store": status_store,
        },
        "observability": {"log": {"level": "WARNING"}},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return str(path)


def run_role(*args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{result.stdout}\n{result.stderr}")
    last = result.stdout.strip().splitlines()[-1]
    parsed: dict[str, Any] = json.loads(last)
    return parsed


def purge(namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(match=f"{namespace}*", count=5000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])
    client.close()


def bare_enqueue(namespace: str, total: int) -> float:
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=REDIS, namespace=namespace)

    @dramatiq.actor(broker=broker, queue_name=f"{namespace}.bench", actor_name="bare")
    def bare(i: int) -> None:
        return None

    started = time.perf_counter()
    for i in range(total):
        bare.send(i)
    rate = total / (time.perf_counter() - started)
    broker.close()
    return rate


async def loom_enqueue(config: str, job_name: str, total: int) -> float:
    """Loom's messages straight to the broker (no outbox): the worker workload."""
    from loom.core.bootstrap import load_runtime
    from loom.jobs import JobMessage

    runtime = load_runtime(config)
    await runtime.start()
    sender = runtime.jobs.sender  # type: ignore[union-attr]
    messages = [
        JobMessage(job_id=uuid.uuid4().hex, job=job_name, queue="bench", params={"i": i})
        for i in range(total)
    ]
    started = time.perf_counter()
    for message in messages:
        sender.send_now([message])
    rate = total / (time.perf_counter() - started)
    await runtime.stop()
    return rate


async def outbox_enqueue(config: str, total: int) -> float:
    """Dispatch through the outbox: one job per use case (write, commit, send, mark)."""
    from bench_dispatch import dispatch_use_case  # type: ignore[import-not-found]

    from loom.core.bootstrap import load_runtime

    runtime = load_runtime(config)
    await runtime.start()
    use_case = dispatch_use_case()
    runtime.application.compile(use_cases=[use_case])
    invoke = runtime.application.invoker.invoke
    started = time.perf_counter()
    for i in range(total):
        await invoke(use_case, params={"i": i})
    rate = total / (time.perf_counter() - started)
    await runtime.stop()
    return rate


def row(name: str, rate: float, base: float | None = None) -> str:
    ratio = f"{rate / base:5.2f}x" if base else "      "
    return f"| {name:<34} | {rate:>10,.0f} | {ratio} |"


def measure_bare(total: int, threads: int, prefetch: int, mode: str) -> tuple[float, float]:
    """(enqueue rate, worker jobs/s) of the bare Dramatiq actor."""
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    try:
        enqueued = bare_enqueue(namespace, total)
        spec = ",".join(map(str, (namespace, total, threads, prefetch, mode)))
        return enqueued, total / run_role("--role", "bare", "--args", spec)["elapsed"]
    finally:
        purge(namespace)


def measure_loom(
    workdir: Path, total: int, threads: int, prefetch: int, job: str, status_store: str
) -> tuple[float, float]:
    """(enqueue rate without the outbox, worker jobs/s) of a loom job."""
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    config = write_config(workdir / f"{namespace}.yaml", namespace, status_store, "memory://")
    try:
        enqueued = asyncio.run(loom_enqueue(config, job, total))
        spec = ",".join(map(str, (config, total, threads, prefetch)))
        return enqueued, total / run_role("--role", "loom", "--args", spec)["elapsed"]
    finally:
        purge(namespace)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--prefetch", type=int, default=None, help="default: 2 x threads")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per workload")
    parser.add_argument("--status-store", choices=["redis", "database"], default="redis")
    parser.add_argument("--outbox-jobs", type=int, default=2_000)
    parser.add_argument("--role", default="driver", help=argparse.SUPPRESS)
    parser.add_argument("--args", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    prefetch = args.prefetch or 2 * args.threads
    if args.role == "bare":
        namespace, total, threads, pre, mode = args.args.split(",")
        bare_worker(namespace, int(total), int(threads), int(pre), mode)
        return
    if args.role == "loom":
        config, total, threads, pre = args.args.split(",")
        loom_worker(config, int(total), int(threads), int(pre))
        return
    total, threads = args.jobs, args.threads
    workdir = Path(tempfile.mkdtemp(prefix="loom-bench-jobs-"))
    sys.path.insert(0, str(HERE))
    (workdir / "bench_dispatch.py").write_text(DISPATCH_MODULE, encoding="utf-8")
    sys.path.insert(0, str(workdir))
    print(
        f"{total:,} jobs, one worker process, {threads} threads, prefetch {prefetch}, "
        f"status store {args.status_store}, {args.rounds} interleaved rounds (median), "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    workloads = {
        "bare Dramatiq, sync actor": lambda: measure_bare(total, threads, prefetch, "sync"),
        "loom job, sync body": lambda: measure_loom(
            workdir, total, threads, prefetch, "jobs.NoopJob", args.status_store
        ),
        "bare Dramatiq, async actor": lambda: measure_bare(total, threads, prefetch, "async"),
        "loom job, async body": lambda: measure_loom(
            workdir, total, threads, prefetch, "jobs.AwaitJob", args.status_store
        ),
    }
    runs: dict[str, list[float]] = {name: [] for name in workloads}
    sends: dict[str, list[float]] = {"bare actor.send": [], "loom message, no outbox": []}
    for round_no in range(args.rounds):
        for name, measure in workloads.items():
            enqueued, rate = measure()
            runs[name].append(rate)
            sends[
                "bare actor.send" if name.startswith("bare") else "loom message, no outbox"
            ].append(enqueued)
            print(f"  round {round_no + 1}: {name:<28} {rate:8,.0f} jobs/s", flush=True)
    results = {name: statistics.median(rates) for name, rates in runs.items()}
    enqueue = {name: statistics.median(rates) for name, rates in sends.items()}
    for database in ("memory://", f"sqlite+aiosqlite:///{workdir / 'outbox.db'}"):
        namespace = f"bench{uuid.uuid4().hex[:8]}"
        config = write_config(workdir / f"{namespace}.yaml", namespace, "database", database)
        label = "memory" if database.startswith("memory") else "SQLite"
        try:
            enqueue[f"loom dispatch via outbox ({label})"] = asyncio.run(
                outbox_enqueue(config, args.outbox_jobs)
            )
        finally:
            purge(namespace)
    bare_sync = results["bare Dramatiq, sync actor"]
    bare_async = results["bare Dramatiq, async actor"]
    print("\n| worker throughput (median)         |     jobs/s | vs bare sync | vs bare async |")
    print("| ---------------------------------- | ---------: | -----------: | ------------: |")
    for name, rate in results.items():
        print(f"| {name:<34} | {rate:>10,.0f} | {rate / bare_sync:11.2f}x | "
              f"{rate / bare_async:12.2f}x |")  # fmt: skip
    print("\n| enqueue (one message at a time)    | messages/s |")
    print("| ---------------------------------- | ---------: |")
    for name, rate in enqueue.items():
        print(f"| {name:<34} | {rate:>10,.0f} |")
    loom_async = results["loom job, async body"]
    loom_sync = results["loom job, sync body"]
    print(
        f"\nloom/bare: sync body {loom_sync / bare_sync:.2f}x of the bare sync actor, "
        f"async body {loom_async / bare_async:.2f}x of the bare async actor "
        f"({loom_async / bare_sync:.2f}x of the bare sync actor); goal >= 0.9x"
    )


DISPATCH_MODULE = '''
"""A use case dispatching one job per call (for the outbox enqueue benchmark)."""

from loom.core.job.service import JobService
from loom.core.job.records import OutboxRecord
from loom.core.use_case.use_case import UseCase


def dispatch_use_case():
    from jobs import NoopJob

    class DispatchOne(UseCase[OutboxRecord, None]):
        def __init__(self, jobs: JobService) -> None:
            self.jobs = jobs

        async def execute(self, i: int) -> None:
            self.jobs.dispatch(NoopJob, params={"i": i})

    return DispatchOne
'''


if __name__ == "__main__":
    main()
