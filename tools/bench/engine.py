"""Engine overhead: a use case with two loads, one compute and three rules, run by the
engine, against a hand-written async function doing the same work on the same
in-memory repository, in one run. Goal: engine ≤ 1.3x the hand-written time.

Run: make bench   (or .venv/bin/python tools/bench/engine.py [--runs N])
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from loom.core.application import Application
from loom.core.command import Command
from loom.core.errors import NotFound, RuleViolation, RuleViolations
from loom.core.model import BaseModel, ColumnField
from loom.core.testing import InMemoryDatabase, InMemoryUnitOfWorkFactory
from loom.core.use_case import Compute, F, Input, LoadById, Rule
from loom.core.use_case.use_case import UseCase


class Account(BaseModel):
    __tablename__ = "bench_accounts"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    owner: str = ColumnField(length=80)
    balance: int = 0


class Transfer(Command, frozen=True):
    amount: int
    memo: str
    memo_normalized: str = ""


def _positive(amount: int) -> str | None:
    return None if amount > 0 else "amount must be positive"


def _memo(memo: str) -> bool:
    return len(memo) > 140


class TransferUseCase(UseCase[Account, int]):
    read_only = True
    computes = (
        Compute.set(F(Transfer).memo_normalized).from_command(
            F(Transfer).memo, via=lambda m: m.strip().lower()
        ),
    )
    rules = (
        Rule.check(F(Transfer).amount, via=_positive),
        Rule.check(F(Transfer).memo, via=_memo, message="memo too long"),
        Rule.forbid(
            lambda cmd, params, source: source.balance < cmd.amount, message="insufficient funds"
        ).from_params("source"),
    )

    async def execute(
        self,
        source_id: int,
        target_id: int,
        cmd: Transfer = Input(),
        source: Account = LoadById(Account, by="source_id"),
        target: Account = LoadById(Account, by="target_id"),
    ) -> int:
        return source.balance - cmd.amount + target.balance


async def by_hand(
    factory: InMemoryUnitOfWorkFactory, params: dict[str, Any], payload: dict[str, Any]
) -> int:
    import msgspec

    source_id, target_id = int(params["source_id"]), int(params["target_id"])
    cmd = msgspec.convert(payload, Transfer)
    cmd = msgspec.structs.replace(cmd, memo_normalized=cmd.memo.strip().lower())
    async with factory(read_only=True) as uow:
        repo = uow.repository(Account)
        source = await repo.get(source_id)
        if source is None:
            raise NotFound(entity="Account", id=source_id)
        target = await repo.get(target_id)
        if target is None:
            raise NotFound(entity="Account", id=target_id)
        violations = []
        if (message := _positive(cmd.amount)) is not None:
            violations.append(RuleViolation(message, field="amount"))
        if _memo(cmd.memo):
            violations.append(RuleViolation("memo too long", field="memo"))
        if source.balance < cmd.amount:
            violations.append(RuleViolation("insufficient funds", field="source"))
        if violations:
            raise RuleViolations(violations)
        return source.balance - cmd.amount + target.balance


async def main(runs: int, repeats: int) -> None:
    db = InMemoryDatabase(Account)
    factory = InMemoryUnitOfWorkFactory(db)
    app = Application(factory)
    app.compile(use_cases=[TransferUseCase])
    async with factory() as uow:
        repo = uow.repository(Account)
        await repo.create({"owner": "a", "balance": 1_000})
        await repo.create({"owner": "b", "balance": 500})
    params = {"source_id": 1, "target_id": 2}
    payload = {"amount": 10, "memo": "  Rent  "}
    invoke = app.invoker.invoke
    assert await invoke(TransferUseCase, params=params, payload=payload) == 1490
    assert await by_hand(factory, params, payload) == 1490

    async def timed(call: Any) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(runs):
            await call()
        return (
            (time.perf_counter() - wall) / runs * 1e6,
            (time.process_time() - cpu) / runs * 1e6,
        )

    figures: dict[str, list[tuple[float, float]]] = {"hand": [], "engine": []}
    for _ in range(repeats):
        figures["hand"].append(await timed(lambda: by_hand(factory, params, payload)))
        figures["engine"].append(
            await timed(lambda: invoke(TransferUseCase, params=params, payload=payload))
        )
    hand_wall, hand_cpu = (statistics.median(f[i] for f in figures["hand"]) for i in (0, 1))
    loom_wall, loom_cpu = (statistics.median(f[i] for f in figures["engine"]) for i in (0, 1))
    print(f"engine.py: {runs} runs x {repeats} repeats, median µs per call (wall / CPU)")
    print(f"  hand-written   {hand_wall:8.1f} µs  {hand_cpu:8.1f} µs")
    print(f"  loom engine    {loom_wall:8.1f} µs  {loom_cpu:8.1f} µs")
    print(
        f"  ratio          {loom_wall / hand_wall:8.2f}x  {loom_cpu / hand_cpu:8.2f}x"
        "   (goal ≤ 1.30x; CPU time is the steadier figure on a shared machine)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.repeats))
