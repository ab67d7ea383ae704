"""REST benchmark (issue loom-rest): loom on Litestar and on Starlette against a hand-written
Litestar + SQLAlchemy app, on PostgreSQL. Goal: loom ≥ 0.95x hand-written in every cell.

Method (seed 000, "Performance"): 1,200 records with 3 notes each; five scenarios

- ``get_detail``  ``GET /records/{id}?profile=detail`` (the record and its notes; random ids)
- ``list_cursor`` ``GET /records?pagination=cursor&limit=25``, then every next page (the
  chain of cursors walked on each server before the run, then cycled)
- ``list_offset`` ``GET /records?page=N&limit=25`` (pages 1..48 cycled; total from
  ``count(*) OVER ()``)
- ``patch``       ``PATCH /records/{id}`` with a new email (``UPDATE ... RETURNING``)
- ``ping``        ``GET /ping`` (no database)

at concurrency 20 / 100 / 300, 3 repeats of 10 s each, medians reported.

Every server is uvicorn, one worker, ``--no-access-log``, uvloop and httptools when
installed, pinned to core 0 (``taskset``); the load generator is ``wrk`` (installed with
apt-get when missing; a Python generator only as a last resort, and the report says so),
one thread, pinned to core 1. The three servers run side by side (idle ones cost
nothing) and the runs interleave: for each repeat, scenario and concurrency, each target
runs once, the order of targets rotating between repeats, so drifting machine load
spreads over all targets instead of hitting one.

Besides requests/s, each run reads the server process's CPU time (utime + stime from
``/proc/<pid>/stat``) before and after, divided by the requests completed: CPU µs per
request, the steadier figure on a noisy machine. Before measuring, each server is checked
(status 200 and the expected shape per scenario, and the same JSON on every target).

Run (from the repository root):
    .venv/bin/python tools/bench/rest/run.py              # the full matrix, ~25 min
    .venv/bin/python tools/bench/rest/run.py --quick      # smoke run, ~1 min
    .venv/bin/python tools/bench/rest/run.py --duration 5 --scenarios ping,get_detail

The data lives in its own schema (``--schema``, default ``bench_rest``) of
``--database`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``), created
and seeded at the start and dropped at the end (``--keep-schema`` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
LUA = HERE / "wrk" / "requests.lua"
CLK_TCK = os.sysconf("SC_CLK_TCK")

SCENARIOS = ("get_detail", "list_cursor", "list_offset", "patch", "ping")
CONCURRENCY = (20, 100, 300)
PAGE = 25
RECORDS = 1200
NOTES_PER_RECORD = 3
ERROR_KINDS = ("connect", "read", "write", "status", "timeout")


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    app: str  # uvicorn factory, relative to --app-dir tools/bench/rest


TARGETS = {
    "hand": Target("hand", "hand-written Litestar", "hand_app:create_app"),
    "loom-litestar": Target("loom-litestar", "loom on Litestar", "loom_app.asgi:litestar_app"),
    "loom-starlette": Target("loom-starlette", "loom on Starlette", "loom_app.asgi:starlette_app"),
}
BASELINE = "hand"


@dataclass
class Run:
    target: str
    scenario: str
    concurrency: int
    repeat: int
    rps: float
    requests: int
    errors: int
    cpu_us_per_request: float
    p50_ms: float
    p99_ms: float
    load1: float
    raw: dict[str, Any] = field(default_factory=dict)


# -- small helpers ---------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid`` (every thread), in clock ticks."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)


def load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def uptime() -> str:
    try:
        done = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
        return done.stdout.strip()
    except OSError:
        return "load average: " + Path("/proc/loadavg").read_text().strip()


def http(
    base: str, method: str, path: str, body: Any = None, timeout: float = 10.0
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode(errors="replace")


def pinning(core: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > core:
        return ["taskset", "-c", str(core)]
    return []


# -- the load generator ----------------------------------------------------------------------


def ensure_wrk() -> str | None:
    """``wrk``'s path; installs it with apt-get when missing. ``None``: not available."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        log("wrk is missing: apt-get update && apt-get install -y wrk")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": False}
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, **quiet)  # type: ignore[call-overload]
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, **quiet)  # type: ignore[call-overload]
    return shutil.which("wrk")


def run_wrk(
    wrk: str | None, base: str, requests_file: Path, concurrency: int, duration: float
) -> dict[str, Any]:
    """One load run pinned to core 1; the ``BENCH_JSON`` summary (times in µs)."""
    if wrk is None:
        command = [
            sys.executable, str(Path(__file__).resolve()), "--_pyload", base,
            str(requests_file), str(concurrency), str(duration),
        ]  # fmt: skip
    else:
        command = [
            wrk, "-t1", f"-c{concurrency}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
            "-s", str(LUA), base,
        ]  # fmt: skip
    env = {**os.environ, "BENCH_WRK_REQUESTS": str(requests_file)}
    done = subprocess.run(
        pinning(1) + command, capture_output=True, text=True, env=env, check=False
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            return result
    raise RuntimeError(f"load generator failed ({done.returncode}): {done.stdout}{done.stderr}")


async def _pyload(base: str, requests_file: Path, concurrency: int, duration: float) -> None:
    """Last-resort load generator: keep-alive HTTP/1.1 connections in one asyncio loop."""
    host, port = base.removeprefix("http://").split(":")
    raw: list[bytes] = []
    for line in requests_file.read_text().splitlines():
        method, path, *rest = line.split("\t")
        body = rest[0].encode() if rest and rest[0] else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        raw.append(head.encode() + b"\r\n" + body)
    latencies: list[float] = []
    status_errors = 0
    deadline = time.perf_counter() + duration

    async def worker(offset: int) -> None:
        nonlocal status_errors
        reader, writer = await asyncio.open_connection(host, int(port))
        index = offset
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(raw[index % len(raw)])
            index += 1
            status_line = await reader.readline()
            length = 0
            while True:
                header = await reader.readline()
                if header in (b"\r\n", b""):
                    break
                name, _, value = header.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            if int(status_line.split()[1]) >= 400:
                status_errors += 1
            latencies.append(time.perf_counter() - started)
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i * 7) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> int:
        return int(latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1e6)

    summary = {
        "requests": len(latencies), "duration_us": int(elapsed * 1e6), "bytes": 0,
        "connect": 0, "read": 0, "write": 0, "status": status_errors, "timeout": 0,
        "p50_us": pct(0.5), "p90_us": pct(0.9), "p99_us": pct(0.99),
        "max_us": int(latencies[-1] * 1e6), "mean_us": statistics.fmean(latencies) * 1e6,
        "generator": "python",
    }  # fmt: skip
    print("BENCH_JSON " + json.dumps(summary), flush=True)


# -- data ------------------------------------------------------------------------------------


def database_url(base: str, schema: str) -> str:
    """``base`` with the schema first in ``search_path`` (libpq's ``options``)."""
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


async def seed(base_url: str, schema: str) -> list[int]:
    """(Re)create ``schema`` with loom's tables and 1,200 records x 3 notes; their ids."""
    sys.path.insert(0, str(HERE))
    from loom_app.models import Note, Record  # type: ignore[import-not-found]
    from sqlalchemy.ext.asyncio import create_async_engine

    from loom.store.mapping import build_catalog

    catalog = build_catalog([Record, Note])
    engine = create_async_engine(base_url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            await conn.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
            await conn.run_sync(catalog.metadata.create_all)
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            rows = [
                (f"req-{i:05d}", f"Record {i}", f"record-{i}@example.com", i % 97)
                for i in range(1, RECORDS + 1)
            ]
            ids = [
                r["id"]
                for r in await driver.fetch(
                    "INSERT INTO bench_records (request_id, full_name, email, score) "
                    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) "
                    "RETURNING id",
                    *(list(col) for col in zip(*rows, strict=True)),
                )
            ]
            notes = [
                (record_id, f"note {n} of record {record_id}", f"body of note {n} " * 4)
                for record_id in ids
                for n in range(1, NOTES_PER_RECORD + 1)
            ]
            await driver.execute(
                "INSERT INTO bench_notes (record_id, title, body) "
                "SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])",
                *(list(col) for col in zip(*notes, strict=True)),
            )
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(f'VACUUM ANALYZE "{schema}".bench_records')
            await conn.exec_driver_sql(f'VACUUM ANALYZE "{schema}".bench_notes')
    finally:
        await engine.dispose()
    return sorted(ids)


async def sql(base_url: str, *statements: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(base_url)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


# -- servers ---------------------------------------------------------------------------------


class Server:
    """One uvicorn process (one worker) pinned to core 0."""

    def __init__(self, target: Target, url: str, logs: Path) -> None:
        self.target = target
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        extra = []
        for module, flag in (("uvloop", "--loop=uvloop"), ("httptools", "--http=httptools")):
            if _importable(module):
                extra.append(flag)
        command = [
            *pinning(0), sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "--factory",
            target.app, "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
            "--no-access-log", "--log-level", "warning", *extra,
        ]  # fmt: skip
        self.log_path = logs / f"{target.name}.log"
        env = {**os.environ, "BENCH_REST_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.flags = " ".join(extra)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.target.name} exited: {self.log_path.read_text()[-3000:]}"
                )
            try:
                status, _ = http(self.base, "GET", "/ping", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.target.name} did not answer /ping within {timeout}s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _importable(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


# -- correctness checks and request lists ----------------------------------------------------


def _fail(target: str, scenario: str, message: str) -> None:
    raise SystemExit(f"correctness check failed: {target} {scenario}: {message}")


RECORD_KEYS = {"id", "request_id", "full_name", "email", "score", "created_at", "updated_at"}
NOTE_KEYS = {"id", "record_id", "title", "body"}


def check_record(target: str, scenario: str, item: Any, *, notes: bool) -> None:
    if not isinstance(item, dict):
        _fail(target, scenario, f"not an object: {item!r}")
    keys = RECORD_KEYS | ({"notes"} if notes else set())
    if set(item) != keys:
        _fail(target, scenario, f"record keys {sorted(item)} != {sorted(keys)}")
    if notes:
        if len(item["notes"]) != NOTES_PER_RECORD:
            _fail(target, scenario, f"{len(item['notes'])} notes, not {NOTES_PER_RECORD}")
        for note in item["notes"]:
            if set(note) != NOTE_KEYS or note["record_id"] != item["id"]:
                _fail(target, scenario, f"bad note {note!r}")


def cursor_chain(target: str, base: str, ids: list[int]) -> list[str]:
    """Walk every keyset page of ``base``: the path of each page (first one included)."""
    paths = [f"/records?pagination=cursor&limit={PAGE}"]
    seen: list[int] = []
    while True:
        status, page = http(base, "GET", paths[-1])
        if status != 200 or set(page or ()) != {"items", "next_cursor", "has_next"}:
            _fail(target, "list_cursor", f"{status} {page!r:.300}")
        for item in page["items"]:
            check_record(target, "list_cursor", item, notes=False)
        seen += [item["id"] for item in page["items"]]
        if not page["has_next"]:
            break
        paths.append(f"/records?cursor={urllib.parse.quote(page['next_cursor'])}&limit={PAGE}")
    if seen != ids:
        _fail(target, "list_cursor", "the pages do not list every record once, in id order")
    return paths


def check_target(target: str, base: str, ids: list[int]) -> dict[str, Any]:
    """Status 200 and the expected shape per scenario; what the cross-target check compares."""
    sample: dict[str, Any] = {}
    status, body = http(base, "GET", "/ping")
    if status != 200 or body != {"status": "ok"}:
        _fail(target, "ping", f"{status} {body!r}")
    record_id = ids[len(ids) // 2]
    status, body = http(base, "GET", f"/records/{record_id}?profile=detail")
    if status != 200:
        _fail(target, "get_detail", f"{status} {body!r}")
    check_record(target, "get_detail", body, notes=True)
    sample["get_detail"] = body
    status, body = http(base, "GET", f"/records?page=2&limit={PAGE}")
    if status != 200 or set(body) != {"items", "total_count", "page", "limit", "has_next"}:
        _fail(target, "list_offset", f"{status} {body!r:.300}")
    if body["total_count"] != len(ids) or body["page"] != 2 or len(body["items"]) != PAGE:
        _fail(target, "list_offset", f"total/page/items wrong: {body!r:.300}")
    if [item["id"] for item in body["items"]] != ids[PAGE : 2 * PAGE]:
        _fail(target, "list_offset", "page 2 does not hold records 26..50")
    for item in body["items"]:
        check_record(target, "list_offset", item, notes=False)
    sample["list_offset"] = body
    sample["list_cursor"] = cursor_chain(target, base, ids)
    patch_id = ids[-1]
    email = f"check-{target}@example.com"
    status, body = http(base, "PATCH", f"/records/{patch_id}", {"email": email})
    if status != 200:
        _fail(target, "patch", f"{status} {body!r}")
    check_record(target, "patch", body, notes=False)
    if body["email"] != email or body["id"] != patch_id:
        _fail(target, "patch", f"the update is not returned: {body!r}")
    status, body = http(base, "GET", f"/records/{patch_id}")
    if status != 200 or body.get("email") != email:
        _fail(target, "patch", f"the update did not persist: {status} {body!r}")
    return sample


def compare_targets(samples: dict[str, dict[str, Any]]) -> None:
    """Every target answers GET detail and the offset page with the same JSON."""
    names = list(samples)
    first = samples[names[0]]
    for name in names[1:]:
        for scenario in ("get_detail", "list_offset"):
            if samples[name][scenario] != first[scenario]:
                _fail(name, scenario, f"answers differently from {names[0]}")


def request_lines(
    scenario: str, ids: list[int], chain: list[str], rng: random.Random, count: int = 4096
) -> list[str]:
    if scenario == "ping":
        return ["GET\t/ping"]
    if scenario == "get_detail":
        return [f"GET\t/records/{rng.choice(ids)}?profile=detail" for _ in range(count)]
    if scenario == "list_offset":
        pages = (len(ids) + PAGE - 1) // PAGE
        return [f"GET\t/records?page={page}&limit={PAGE}" for page in range(1, pages + 1)]
    if scenario == "list_cursor":
        return [f"GET\t{path}" for path in chain]
    if scenario == "patch":
        lines = []
        for n in range(count):
            record_id = rng.choice(ids)
            body = json.dumps({"email": f"record-{record_id}-{n}@example.com"})
            lines.append(f"PATCH\t/records/{record_id}\t{body}")
        return lines
    raise ValueError(scenario)


# -- the report ------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(runs: list[Run], targets: list[str], scenarios: list[str], levels: list[int]) -> str:
    cells: dict[tuple[str, str, int], list[Run]] = {}
    for run in runs:
        cells.setdefault((run.target, run.scenario, run.concurrency), []).append(run)

    def med(target: str, scenario: str, c: int, attr: str) -> float:
        return _median([getattr(r, attr) for r in cells.get((target, scenario, c), [])])

    others = [t for t in targets if t != BASELINE]
    has_base = BASELINE in targets
    out: list[str] = []

    def table(title: str, attr: str, fmt: str, *, ratio: str | None) -> None:
        head = ["scenario", "c", *targets]
        if has_base and ratio:
            head += [f"{t} ratio" for t in others]
        out.append(f"\n{title}\n")
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        for scenario in scenarios:
            for c in levels:
                values = {t: med(t, scenario, c, attr) for t in targets}
                row = [scenario, str(c), *(format(values[t], fmt) for t in targets)]
                if has_base and ratio:
                    for t in others:
                        base, value = values[BASELINE], values[t]
                        r = value / base if ratio == "higher" else base / value
                        row.append(f"{r:.2f}x" + (" ⚠" if r < 0.95 else ""))
                out.append("| " + " | ".join(row) + " |")

    table(
        "Requests/s (median of repeats); ratio = loom / hand (goal ≥ 0.95x, ⚠ below)",
        "rps", ".0f", ratio="higher",
    )  # fmt: skip
    table(
        "Server CPU µs per request (median); ratio = hand / loom (≥ 1 means loom uses less "
        "CPU; goal ≥ 0.95x)",
        "cpu_us_per_request", ".0f", ratio="lower",
    )  # fmt: skip
    out.append("\nLatency p50 / p99 in ms (median of repeats, from wrk)\n")
    head = ["scenario", "c", *targets]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for scenario in scenarios:
        for c in levels:
            row = [scenario, str(c)]
            for t in targets:
                p50, p99 = med(t, scenario, c, "p50_ms"), med(t, scenario, c, "p99_ms")
                row.append(f"{p50:.1f} / {p99:.1f}")
            out.append("| " + " | ".join(row) + " |")
    errors = [r for r in runs if r.errors]
    if errors:
        out.append("\nRuns with errors (non-2xx, timeouts, socket errors):")
        for r in errors:
            out.append(
                f"  {r.target} {r.scenario} c={r.concurrency} #{r.repeat}: "
                f"{r.errors} of {r.requests} ({r.raw})"
            )
    else:
        out.append("\nNo errors: every response of every run was 2xx.")
    loads = [r.load1 for r in runs]
    if loads:
        out.append(
            f"Machine load (1-min load average at run starts): min {min(loads):.2f}, "
            f"median {_median(loads):.2f}, max {max(loads):.2f}"
        )
    return "\n".join(out)


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run (10)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per target/scenario")
    parser.add_argument("--concurrency", default=",".join(map(str, CONCURRENCY)))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--database", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--schema", default="bench_rest")
    parser.add_argument("--keep-schema", action="store_true")
    parser.add_argument("--seed", type=int, default=1200, help="random seed of the id lists")
    parser.add_argument("--out", type=Path, default=None, help="folder for logs and JSON")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2 s runs, 1 repeat, c=20 and 100"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.repeats, args.warmup = 2.0, 1, 1.0
        if args.concurrency == ",".join(map(str, CONCURRENCY)):
            args.concurrency = "20,100"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    scenarios = [s for s in args.scenarios.split(",") if s]
    levels = [int(c) for c in args.concurrency.split(",") if c]
    unknown = [t for t in targets if t not in TARGETS]
    unknown += [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown target or scenario: {unknown}")
    out = args.out or Path(tempfile.mkdtemp(prefix="loom-bench-rest-"))
    out.mkdir(parents=True, exist_ok=True)
    wrk = ensure_wrk()
    if wrk is None:
        log(
            "WARNING: wrk is not available: falling back to the Python load generator (its "
            "numbers are NOT comparable with wrk's; the generator may be the bottleneck)"
        )
    log(f"machine: {os.cpu_count()} cores; {uptime()}")
    log(f"output: {out}")
    url = database_url(args.database, args.schema)
    ids = asyncio.run(seed(args.database, args.schema))
    log(f"seeded schema {args.schema}: {len(ids)} records x {NOTES_PER_RECORD} notes")

    servers: dict[str, Server] = {}
    runs: list[Run] = []
    started = time.monotonic()
    try:
        for name in targets:
            servers[name] = Server(TARGETS[name], url, out)
        for server in servers.values():
            server.wait_ready()
        log("servers: " + ", ".join(
            f"{n} pid {s.pid} port {s.port} ({s.flags or 'asyncio, h11'})"
            for n, s in servers.items()
        ))  # fmt: skip

        samples = {name: check_target(name, s.base, ids) for name, s in servers.items()}
        compare_targets(samples)
        log("correctness checks passed (status 200, expected shapes, same JSON on every target)")

        files: dict[tuple[str, str], Path] = {}
        for name in targets:
            for scenario in scenarios:
                rng = random.Random(f"{args.seed}-{scenario}")  # same sequence for every target
                lines = request_lines(scenario, ids, samples[name]["list_cursor"], rng)
                path = out / f"requests-{name}-{scenario}.tsv"
                path.write_text("\n".join(lines) + "\n")
                files[name, scenario] = path

        if args.warmup > 0:
            for scenario in scenarios:
                for name in targets:
                    run_wrk(wrk, servers[name].base, files[name, scenario], 50, args.warmup)
            log(f"warmed up ({args.warmup:g} s per target and scenario at c=50)")

        total = args.repeats * len(scenarios) * len(levels) * len(targets)
        for repeat in range(1, args.repeats + 1):
            order = targets[(repeat - 1) % len(targets) :] + targets[: (repeat - 1) % len(targets)]
            for scenario in scenarios:
                for c in levels:
                    for name in order:
                        server = servers[name]
                        load = load1()
                        before = cpu_ticks(server.pid)
                        result = run_wrk(wrk, server.base, files[name, scenario], c, args.duration)
                        ticks = cpu_ticks(server.pid) - before
                        requests = int(result["requests"])
                        errors = sum(int(result[k]) for k in ERROR_KINDS)
                        run = Run(
                            target=name,
                            scenario=scenario,
                            concurrency=c,
                            repeat=repeat,
                            rps=requests / (int(result["duration_us"]) / 1e6),
                            requests=requests,
                            errors=errors,
                            cpu_us_per_request=ticks / CLK_TCK * 1e6 / max(1, requests),
                            p50_ms=int(result["p50_us"]) / 1000,
                            p99_ms=int(result["p99_us"]) / 1000,
                            load1=load,
                            raw=result,
                        )
                        runs.append(run)
                        log(
                            f"{len(runs)}/{total} #{repeat} {scenario:<11} c={c:<3} {name:<14} "
                            f"{run.rps:7.0f} req/s  {run.cpu_us_per_request:6.0f} µs CPU/req  "
                            f"p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:7.1f} ms  "
                            f"load {load:.2f}" + (f"  ERRORS {errors}" if errors else "")
                        )
                    if scenario == "patch":
                        asyncio.run(sql(args.database, *(
                            f'VACUUM "{args.schema}".{t}' for t in ("bench_records",)
                        )))  # fmt: skip
    finally:
        for server in servers.values():
            server.stop()
        if not args.keep_schema:
            asyncio.run(sql(args.database, f'DROP SCHEMA IF EXISTS "{args.schema}" CASCADE'))
            log(f"dropped schema {args.schema}")

    text = report(runs, targets, scenarios, levels)
    minutes = (time.monotonic() - started) / 60
    header = (
        f"REST benchmark: {len(ids)} records x {NOTES_PER_RECORD} notes, {args.duration:g} s "
        f"per run, {args.repeats} repeat(s), load generator "
        f"{'wrk -t1' if wrk else 'PYTHON (fallback)'} on core 1, servers on core 0 "
        f"(uvicorn, 1 worker, {next(iter(servers.values())).flags if servers else ''}); "
        f"{minutes:.1f} min; {uptime()}"
    )
    print("\n" + header + "\n" + text, flush=True)
    (out / "results.json").write_text(
        json.dumps([run.__dict__ for run in runs], indent=1), encoding="utf-8"
    )
    (out / "report.md").write_text(header + "\n" + text + "\n", encoding="utf-8")
    log(f"results: {out / 'results.json'}, {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--_pyload":
        _, _, base, requests_file, concurrency, duration = sys.argv
        asyncio.run(_pyload(base, Path(requests_file), int(concurrency), float(duration)))
        sys.exit(0)
    sys.exit(main())
