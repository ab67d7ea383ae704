"""The compiler: every declaration error, all reported at once, and the plan it builds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from loom.core.errors import CompilationError
from loom.etl import (
    ETLParams,
    ETLPipeline,
    ETLProcess,
    ETLStep,
    Format,
    FromFile,
    FromTable,
    IntoFile,
    IntoTable,
    StepSQL,
    WriteMode,
    col,
    params,
)
from loom.etl.backend import Storage
from loom.etl.compiler import ParallelNode, SequenceNode, StepNode, compile_pipeline
from loom.etl.errors import (
    DeclarationError,
    EtlError,
    MissingTableError,
    ParallelConflictError,
    ParamsValidationError,
    PipelineCompilationError,
    StepSignatureError,
    UnknownAliasError,
    UnknownColumnError,
    UnknownParamError,
    WriteModeError,
)
from loom.etl.settings import FileSettings, StorageSettings


class Daily(ETLParams):
    run_date: dt.date
    region: str = "eu"


class Ok(ETLStep[Daily]):
    orders = FromTable("raw.orders").where(col("day") == params.run_date)
    target = IntoTable("staging.orders").replace()

    def execute(self, params: Daily, *, orders: Any) -> Any:
        return orders


def pipeline_of(*entries: Any) -> type:
    class Proc(ETLProcess[Daily]):
        steps = list(entries)

    class Pipe(ETLPipeline[Daily]):
        processes = [Proc]

    return Pipe


def errors_of(pipeline: type, **kwargs: Any) -> list[EtlError]:
    with pytest.raises(PipelineCompilationError) as info:
        compile_pipeline(pipeline, **kwargs)
    return list(info.value.errors)


def only(pipeline: type, error_type: type[EtlError], **kwargs: Any) -> EtlError:
    errors = errors_of(pipeline, **kwargs)
    assert len(errors) == 1, [str(e) for e in errors]
    assert type(errors[0]) is error_type, str(errors[0])
    return errors[0]


def test_a_good_pipeline_compiles_into_an_immutable_plan() -> None:
    plan = compile_pipeline(pipeline_of(Ok))
    assert plan.name == "Pipe"
    assert plan.params_type is Daily
    (step,) = plan.steps
    assert step.name == "Ok"
    assert step.process == "Proc"
    assert step.index == 1
    assert step.target.mode is WriteMode.REPLACE
    assert step.sources[0].location.uri.endswith("lake/raw/orders")
    with pytest.raises(AttributeError):
        step.name = "x"  # type: ignore[misc]


def test_missing_and_extra_execute_parameters_are_named_both_ways() -> None:
    class Step(ETLStep[Daily]):
        orders = FromTable("raw.orders")
        customers = FromTable("raw.customers")
        target = IntoTable("x.y").replace()

        def execute(self, params: Daily, *, orders: Any, custmers: Any) -> Any:
            return orders

    errors = errors_of(pipeline_of(Step))
    assert {type(e) for e in errors} == {StepSignatureError}
    text = "\n".join(map(str, errors))
    assert (
        "[Pipe] Step.customers: execute has no keyword-only parameter for source 'customers'"
        in text
    )
    assert "execute parameter 'custmers' matches no source" in text
    assert all(e.step == "Step" and e.pipeline == "Pipe" and e.fix for e in errors)


def test_positional_source_parameter_and_kwargs_are_rejected() -> None:
    class Positional(ETLStep[Daily]):
        orders = FromTable("raw.orders")
        target = IntoTable("x.y").replace()

        def execute(self, params: Daily, orders: Any) -> Any:
            return orders

    class Kwargs(ETLStep[Daily]):
        orders = FromTable("raw.orders")
        target = IntoTable("x.z").replace()

        def execute(self, params: Daily, **frames: Any) -> Any:
            return frames

    errors = errors_of(pipeline_of(Positional, Kwargs))
    text = "\n".join(map(str, errors))
    assert "source parameter 'orders' is positional" in text
    assert "put '*' before it" in text
    assert "execute takes **frames" in text


def test_a_step_must_be_constructible_without_arguments() -> None:
    class NeedsClient(Ok):
        def __init__(self, client: object) -> None:
            self.client = client

    class Fine(Ok):
        target = IntoTable("x.fine").replace()

        def __init__(self, retries: int = 3) -> None:
            self.retries = retries

    error = only(pipeline_of(NeedsClient, Fine), StepSignatureError)
    assert (error.step, error.attribute) == ("NeedsClient", "__init__")
    assert "__init__ requires client" in str(error)


def test_missing_execute_and_async_execute() -> None:
    class NoExecute(ETLStep[Daily]):
        target = IntoTable("x.y").replace()

    class AsyncExecute(ETLStep[Daily]):
        target = IntoTable("x.z").replace()

        async def execute(self, params: Daily) -> Any:
            return None

    errors = errors_of(pipeline_of(NoExecute, AsyncExecute))
    assert ["no execute method" in str(e) for e in errors] == [True, False]
    assert "execute is async" in str(errors[1])


def test_unknown_params_reference_with_a_suggestion() -> None:
    class Step(ETLStep[Daily]):
        orders = FromTable("raw.orders").where(col("day") == params.run_dat)
        target = IntoTable("x.y").replace_partition(year=params.run_date.yeer)

        def execute(self, params: Daily, *, orders: Any) -> Any:
            return orders

    errors = errors_of(pipeline_of(Step))
    assert [type(e) for e in errors] == [UnknownParamError, UnknownParamError]
    assert "params.run_dat: Daily has no field 'run_dat' (did you mean 'run_date'?)" in str(
        errors[0]
    )
    assert errors[0].attribute == "orders"
    assert "params.run_date.yeer: date has no attribute 'yeer'" in str(errors[1])
    assert errors[1].attribute == "target"


def test_write_mode_arguments_must_fit_together() -> None:
    class NoMode(ETLStep[Daily]):
        target = IntoTable("a.no_mode")

        def execute(self, params: Daily) -> Any: ...

    class EmptyKeys(ETLStep[Daily]):
        target = IntoTable("a.upsert").upsert(keys=())

        def execute(self, params: Daily) -> Any: ...

    class TwoModes(ETLStep[Daily]):
        target = IntoTable("a.two").replace().append()

        def execute(self, params: Daily) -> Any: ...

    class OverwriteAppend(ETLStep[Daily]):
        target = IntoTable("a.ow").append(schema="overwrite")

        def execute(self, params: Daily) -> Any: ...

    class BadSchema(ETLStep[Daily]):
        target = IntoTable("a.bad").replace(schema="loose")

        def execute(self, params: Daily) -> Any: ...

    class NoPartitions(ETLStep[Daily]):
        target = IntoTable("a.np").replace_partitions()

        def execute(self, params: Daily) -> Any: ...

    class ExprValue(ETLStep[Daily]):
        target = IntoTable("a.ev").replace_partition(year=col("y"))

        def execute(self, params: Daily) -> Any: ...

    class NoColumnWhere(ETLStep[Daily]):
        target = IntoTable("a.nc").replace_where(params.region == "eu")

        def execute(self, params: Daily) -> Any: ...

    errors = errors_of(
        pipeline_of(
            NoMode, EmptyKeys, TwoModes, OverwriteAppend, BadSchema, NoPartitions, ExprValue,
            NoColumnWhere,
        )
    )  # fmt: skip
    assert {type(e) for e in errors} == {WriteModeError}
    by_step = {e.step: str(e) for e in errors}
    assert "has no write mode" in by_step["NoMode"]
    assert "upsert() needs at least one key column" in by_step["EmptyKeys"]
    assert "sets a write mode 2 times" in by_step["TwoModes"]
    assert "schema='overwrite' only works with replace()" in by_step["OverwriteAppend"]
    assert "unknown schema mode 'loose'" in by_step["BadSchema"]
    assert "replace_partitions() names no column" in by_step["NoPartitions"]
    assert "must be a literal or a params reference" in by_step["ExprValue"]
    assert "predicate reads no column" in by_step["NoColumnWhere"]


def test_targets_sources_and_literals_are_checked() -> None:
    class NoTarget(ETLStep[Daily]):
        def execute(self, params: Daily) -> Any: ...

    class TwoTargets(ETLStep[Daily]):
        a = IntoTable("t.a").replace()
        b = IntoTable("t.b").replace()

        def execute(self, params: Daily) -> Any: ...

    class BadThings(ETLStep[Daily]):
        polars_pred = FromTable("raw.x").where("amount > 0")  # type: ignore[arg-type]
        bad_literal = FromTable("raw.y").where((col("a") == [1, 2]) | col("b").isin([col("c")]))
        bad_table = FromTable("raw/../etc")
        bad_type = FromTable("raw.z").types(a="int65")
        no_format = FromFile("data/file.txt")
        target = IntoTable("t.c").replace()

        def execute(
            self, params: Daily, *, polars_pred: Any, bad_literal: Any, bad_table: Any,
            bad_type: Any, no_format: Any,
        ) -> Any: ...  # fmt: skip

    errors = errors_of(pipeline_of(NoTarget, TwoTargets, BadThings))
    text = "\n".join(map(str, errors))
    assert "[Pipe] NoTarget: the step declares no target" in text
    assert "declares 2 targets (a, b)" in text
    assert "BadThings.polars_pred: where() takes a loom predicate, got builtins.str" in text
    assert "is not a supported literal" in text
    assert "isin() takes literal values or params references" in text
    assert "'raw/../etc' is not a dotted name" in text
    assert "unknown type 'int65'" in text
    assert "cannot tell the format of 'data/file.txt'" in text
    assert all(isinstance(e, DeclarationError) for e in errors)


def test_structure_errors() -> None:
    class Empty(ETLProcess[Daily]):
        steps: list[Any] = []

    class Nested(ETLProcess[Daily]):
        steps = [[Ok, [Ok]]]

    class Pipe(ETLPipeline[Daily]):
        processes = [Empty, Nested, Ok(), "Ok", Ok, Ok]

    errors = errors_of(Pipe)
    text = "\n".join(map(str, errors))
    assert "Empty.steps must be a non-empty list" in text
    assert "Nested.steps[0]: a parallel group holds another list" in text
    assert "list the class Ok, not an instance" in text
    assert "Pipe.processes[3] is str 'Ok', not a step or process class" in text
    assert "step Ok appears 3 times" in text


def test_params_type_mismatch_between_step_and_pipeline() -> None:
    class Other(ETLParams):
        day: dt.date

    class OtherStep(ETLStep[Other]):
        target = IntoTable("x.y").replace()

        def execute(self, params: Other) -> Any: ...

    error = only(pipeline_of(OtherStep), DeclarationError)
    assert "OtherStep expects params Other, but the pipeline runs with Daily" in str(error)


def test_parallel_branches_may_not_share_targets_or_read_each_other() -> None:
    class WritesA(ETLStep[Daily]):
        target = IntoTable("t.a").replace()

        def execute(self, params: Daily) -> Any: ...

    class AlsoWritesA(ETLStep[Daily]):
        target = IntoTable("t.a").append()

        def execute(self, params: Daily) -> Any: ...

    class ReadsA(ETLStep[Daily]):
        a = FromTable("t.a")
        target = IntoTable("t.b").replace()

        def execute(self, params: Daily, *, a: Any) -> Any: ...

    errors = errors_of(pipeline_of([WritesA, AlsoWritesA, ReadsA]))
    assert {type(e) for e in errors} == {ParallelConflictError}
    text = "\n".join(map(str, errors))
    assert "parallel steps WritesA and AlsoWritesA both write t.a" in text
    assert "step ReadsA reads t.a while the parallel step WritesA writes it" in text


def test_sql_steps_need_sql_and_no_execute() -> None:
    class NoSql(StepSQL[Daily]):
        target = IntoTable("x.y").replace()

    class WithExecute(StepSQL[Daily]):
        orders = FromTable("raw.orders")
        target = IntoTable("x.z").replace()
        sql = "SELECT * FROM orders WHERE d = :run_dte"

        def execute(self, params: Daily, *, orders: Any) -> Any: ...

    errors = errors_of(pipeline_of(NoSql, WithExecute))
    text = "\n".join(map(str, errors))
    assert "NoSql.sql: a StepSQL step needs a non-empty sql string" in text
    assert "WithExecute.execute: a StepSQL step defines execute" in text
    assert "WithExecute.sql: params.run_dte: Daily has no field 'run_dte'" in text


def test_unknown_file_alias_lists_the_known_ones() -> None:
    class Export(ETLStep[Daily]):
        events = FromFile.alias("events_raw", format=Format.CSV)
        target = IntoFile.alias("exports", format=Format.PARQUET)

        def execute(self, params: Daily, *, events: Any) -> Any: ...

    storage = Storage(StorageSettings(files={"exports": FileSettings(path="out/x.parquet")}))
    error = only(pipeline_of(Export), UnknownAliasError, storage=storage)
    assert "file alias 'events_raw' is not in storage.files (known: exports)" in str(error)
    assert error.fix == "add storage.files.events_raw.path to the config"


def test_include_must_name_steps() -> None:
    errors = errors_of(pipeline_of(Ok), include=["Ok", "Nope"])
    assert "include names 'Nope', which is not a step of the pipeline (steps: Ok)" in str(errors[0])


def test_many_errors_are_reported_together_in_one_exception() -> None:
    class Broken(ETLStep[Daily]):
        orders = FromTable("raw.orders").where(col("x") == params.nope)
        target = IntoTable("x.y").upsert(keys=())

        def execute(self, params: Daily, *, ordrs: Any) -> Any: ...

    with pytest.raises(PipelineCompilationError) as info:
        compile_pipeline(pipeline_of(Broken, Broken))
    error = info.value
    codes = sorted({e.code for e in error.errors})
    assert codes == [
        "etl_declaration_error",
        "etl_step_signature",
        "etl_unknown_param",
        "etl_write_mode",
    ]
    assert len(error.errors) >= 6
    assert str(error).startswith(f"pipeline Pipe has {len(error.errors)} errors:")
    assert isinstance(error, CompilationError)
    assert error.code == "etl_compilation_failed"


def test_not_a_pipeline() -> None:
    with pytest.raises(PipelineCompilationError, match="is not an ETLPipeline subclass"):
        compile_pipeline(Ok)


def test_params_are_validated_after_the_declarations() -> None:
    with pytest.raises(ParamsValidationError) as info:
        compile_pipeline(pipeline_of(Ok), params={"run_date": "not a date"})
    assert info.value.errors[0].field == "run_date"
    assert "[Pipe] params: run_date: Invalid RFC3339 encoded date" in str(info.value)
    with pytest.raises(ParamsValidationError, match="Object missing required field `run_date`"):
        compile_pipeline(pipeline_of(Ok), params={})
    plan = compile_pipeline(pipeline_of(Ok), params={"run_date": "2024-05-01"})
    assert plan.params == Daily(run_date=dt.date(2024, 5, 1))


def test_a_constructed_instance_with_a_wrong_type_is_rejected() -> None:
    bad = Daily(run_date=12)  # type: ignore[arg-type]  # msgspec does not check on __init__
    with pytest.raises(ParamsValidationError, match="run_date: Expected `date`, got `int`"):
        compile_pipeline(pipeline_of(Ok), params=bad)


def test_the_tree_keeps_processes_and_parallel_groups() -> None:
    class A(Ok):
        target = IntoTable("t.a").replace()

    class B(Ok):
        target = IntoTable("t.b").replace()

    class C(Ok):
        target = IntoTable("t.c").replace()

    plan = compile_pipeline(pipeline_of(A, [B, C]))
    (process,) = plan.root.children
    assert isinstance(process, SequenceNode)
    assert process.label == "Proc"
    first, group = process.children
    assert isinstance(first, StepNode)
    assert isinstance(group, ParallelNode)
    assert [s.name for s in plan.steps] == ["A", "B", "C"]
    assert [s.index for s in plan.steps] == [1, 2, 3]


def test_dry_run_text_shows_steps_sources_targets_and_modes() -> None:
    class Load(ETLStep[Daily]):
        orders = FromTable("raw.orders").columns("id", "day").where(col("day") == params.run_date)
        target = IntoTable("staging.orders").replace_partition(year=params.run_date.year)

        def execute(self, params: Daily, *, orders: Any) -> Any: ...

    class Export(ETLStep[Daily]):
        staged = FromTable("staging.orders")
        target = IntoFile("out/orders.csv")

        def execute(self, params: Daily, *, staged: Any) -> Any: ...

    plan = compile_pipeline(
        pipeline_of(Load, Export),
        params=Daily(run_date=dt.date(2024, 5, 1)),
        storage=Storage(StorageSettings(root="/data/lake")),
    )
    text = str(plan)
    lines = text.splitlines()
    assert (
        lines[0] == "pipeline Pipe (params: Daily(run_date=datetime.date(2024, 5, 1), region='eu'))"
    )
    assert "  process Proc" in lines
    assert "    1. Load (python)" in lines
    assert (
        "read  orders <- table raw.orders columns(id, day) where(col('day') == params.run_date)"
        "  @ /data/lake/raw/orders" in text
    )
    assert (
        "write target -> table staging.orders replace_partition(year=params.run_date.year=2024)"
        " schema=strict partition_by=(year)" in text
    )
    assert "file out/orders.csv (csv) replace" in text
    assert lines[-1] == "2 steps to run"


class FakeBackend:
    """Answers schema questions from a dict of table location -> columns."""

    name = "fake"

    def __init__(self, tables: dict[str, tuple[str, ...]]) -> None:
        self.tables = tables

    def table_schema(self, location: Any) -> Any:
        from loom.etl.backend import TableSchema

        for name, columns in self.tables.items():
            if location.uri.endswith("/" + name.replace(".", "/")):
                return TableSchema(tuple((c, "str") for c in columns))
        return None

    def read(self, spec: Any, ctx: Any) -> Any:  # pragma: no cover - never runs
        raise AssertionError

    def sql(self, query: Any, frames: Any, ctx: Any) -> Any:  # pragma: no cover
        raise AssertionError

    def write(self, frame: Any, spec: Any, ctx: Any) -> Any:  # pragma: no cover
        raise AssertionError


def test_missing_tables_unless_an_earlier_step_writes_them() -> None:
    class First(ETLStep[Daily]):
        orders = FromTable("raw.orders")
        target = IntoTable("staging.orders").replace()

        def execute(self, params: Daily, *, orders: Any) -> Any: ...

    class Second(ETLStep[Daily]):
        staged = FromTable("staging.orders")
        missing = FromTable("raw.missing")
        target = IntoTable("mart.x").replace()

        def execute(self, params: Daily, *, staged: Any, missing: Any) -> Any: ...

    backend = FakeBackend({"raw.orders": ("id",)})
    error = only(pipeline_of(First, Second), MissingTableError, backend=backend)
    assert error.step == "Second"
    assert error.attribute == "missing"
    assert "table raw.missing does not exist at" in str(error)
    # read before it is written: missing too
    errors = errors_of(pipeline_of(Second, First), backend=backend)
    assert sorted(e.attribute or "" for e in errors) == ["missing", "staged"]
    # with include, an excluded producer does not count
    errors = errors_of(pipeline_of(First, Second), backend=backend, include=["Second"])
    assert sorted(e.attribute or "" for e in errors) == ["missing", "staged"]


def test_columns_are_checked_against_known_table_schemas() -> None:
    class Step(ETLStep[Daily]):
        orders = (
            FromTable("raw.orders")
            .columns("id", "amout")
            .where(col("stauts") == "ok")
            .types(amnt="float64")
        )
        target = IntoTable("staging.orders").upsert(keys=("idd",), update_columns=("amount",))

        def execute(self, params: Daily, *, orders: Any) -> Any: ...

    backend = FakeBackend(
        {"raw.orders": ("id", "amount", "status"), "staging.orders": ("id", "amount")}
    )
    errors = errors_of(pipeline_of(Step), backend=backend)
    assert {type(e) for e in errors} == {UnknownColumnError}
    assert [(e.attribute, e.column) for e in errors] == [
        ("orders", "amout"),
        ("orders", "stauts"),
        ("orders", "amnt"),
        ("target", "idd"),
    ]
    assert (
        "columns(): column 'amout' is not in table raw.orders (did you mean 'amount'?) "
        "(columns: id, amount, status)" in str(errors[0])
    )
