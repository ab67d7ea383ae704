"""The DSL alone (no Polars needed): predicates, params references, sources, targets, SQL."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import textwrap

import pytest

from loom.etl import (
    Format,
    FromFile,
    FromTable,
    IntoFile,
    IntoTable,
    SchemaMode,
    WriteMode,
    col,
    params,
)
from loom.etl.dsl import ParamRef, parse_sql
from loom.etl.dsl._expr import (
    Compare,
    IsIn,
    Lit,
    bind_expr,
    columns_of,
    params_of,
    render_expr,
)


def test_comparisons_build_a_tree_not_a_bool() -> None:
    expr = (col("amount") > 0) & ~(col("status") == "void")
    assert isinstance(expr.left, Compare)
    assert render_expr(expr) == "(col('amount') > 0) & ~(col('status') == 'void')"
    assert columns_of(expr) == ("amount", "status")


def test_or_isin_and_null_checks_render_like_the_dsl() -> None:
    expr = col("region").isin(["eu", "us"]) | col("region").is_null() | col("x").is_not_null()
    assert (
        render_expr(expr)
        == "(col('region').isin(['eu', 'us']) | col('region').is_null()) | col('x').is_not_null()"
    )


def test_using_a_predicate_as_a_bool_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match=re.escape("combine predicates with & | ~")):
        bool(col("a") > 1)
    with pytest.raises(TypeError, match="no truth value"):
        _ = (col("a") > 1) and (col("b") > 2)


def test_params_proxy_builds_dotted_references() -> None:
    ref = params.run_date.year
    assert isinstance(ref, ParamRef)
    assert ref.path == ("run_date", "year")
    assert ref.dotted == "params.run_date.year"
    assert repr(params) == "params"
    with pytest.raises(AttributeError):
        _ = params.__wrapped__


def test_bind_replaces_params_by_literals() -> None:
    expr = (col("day") == params.run_date) & col("region").isin(params.regions)
    values = {("run_date",): dt.date(2024, 5, 1), ("regions",): ["eu", "us"]}
    bound = bind_expr(expr, lambda ref: values[ref.path])
    assert params_of(bound) == ()
    assert render_expr(bound) == (
        "(col('day') == datetime.date(2024, 5, 1)) & col('region').isin(['eu', 'us'])"
    )
    assert isinstance(bound.right, IsIn)
    assert all(isinstance(v, Lit) for v in bound.right.values)  # type: ignore[union-attr]


def test_bind_isin_of_a_scalar_param_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not a sequence"):
        bind_expr(col("r").isin(params.region), lambda ref: "eu")


def test_source_builders_are_immutable_and_chain() -> None:
    base = FromTable("raw.orders")
    narrowed = base.columns("id", "amount").where(col("amount") > 0).where(col("id") < 9)
    assert base.selected is None
    assert narrowed.selected == ("id", "amount")
    assert render_expr(narrowed.predicate) == "(col('amount') > 0) & (col('id') < 9)"
    assert narrowed.describe() == (
        "table raw.orders columns(id, amount) where((col('amount') > 0) & (col('id') < 9))"
    )
    typed = FromFile("data/x.csv", format=Format.CSV).types(amount="float64")
    assert typed.dtypes == (("amount", "float64"),)
    assert FromFile.alias("events_raw", format=Format.CSV).alias_name == "events_raw"


def test_target_builders_record_mode_and_arguments() -> None:
    target = IntoTable("staging.orders").replace_partition(
        year=params.run_date.year, month=params.run_date.month
    )
    assert target.mode is WriteMode.REPLACE_PARTITION
    assert [c for c, _ in target.partition_values] == ["year", "month"]
    assert target.schema is SchemaMode.STRICT
    upsert = IntoTable("dim.customers").upsert(keys="id", schema="evolve")
    assert upsert.keys == ("id",)
    assert upsert.schema == "evolve"
    assert IntoTable("x.y").replace_partitions("a", "b").partition_columns == ("a", "b")
    assert IntoTable("x.y").replace().append().modes_set == 2
    assert IntoFile.alias("exports_daily", format=Format.PARQUET).describe() == (
        "file alias exports_daily (parquet) replace"
    )


def test_sql_placeholders_skip_strings_identifiers_comments_and_casts() -> None:
    template = parse_sql(
        "SELECT ':not_me' AS s, \"col:x\", a::int -- :comment\n"
        "FROM t /* :block */ WHERE d = :run_date AND y = :run_date.year AND n = :name"
    )
    assert [p.dotted for p in template.params] == [
        "params.run_date",
        "params.run_date.year",
        "params.name",
    ]
    text = "".join(p if isinstance(p, str) else "?" for p in template.parts)
    assert text.endswith("WHERE d = ? AND y = ? AND n = ?")
    assert "':not_me'" in text
    assert "a::int" in text
    assert "-- :comment" in text


def test_import_works_with_loom_core_only_and_the_backend_names_the_extra() -> None:
    probe = textwrap.dedent(
        """
        import sys
        for name in ("polars", "deltalake", "pyarrow"):
            sys.modules[name] = None  # makes "import polars" fail like a missing package
        from loom.etl import ETLParams, ETLStep, ETLProcess, ETLPipeline, ETLRunner
        from loom.etl import FromTable, FromFile, IntoTable, IntoFile, Format, params, StepSQL
        from loom.core.errors import MissingDependencyError
        try:
            import loom.etl.delta
        except MissingDependencyError as exc:
            print("extra:", exc.distribution, exc.extra)
        try:
            ETLRunner.from_config({"storage": {"root": "./lake"}})
        except MissingDependencyError as exc:
            print("runner:", exc.extra)
        """
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["extra: loom-etl delta", "runner: delta"]
