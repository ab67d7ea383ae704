"""The pipeline DSL: params, steps, processes, pipelines, sources, targets and predicates.

Everything here is importable without Polars or Delta installed; the backends that run
it live in :mod:`loom.etl.delta` (extra ``delta``).
"""

from loom.etl.dsl._declarations import (
    ETLParams,
    ETLPipeline,
    ETLProcess,
    ETLStep,
    StepSQL,
    declared_params_type,
    sources_of,
    targets_of,
)
from loom.etl.dsl._dtypes import DTYPE_NAMES
from loom.etl.dsl._expr import Col, Expr, Lit, ParamRef, ParamsProxy, col, params
from loom.etl.dsl._sources import Format, FromFile, FromTable, Source
from loom.etl.dsl._sql_template import SqlTemplate, parse_sql
from loom.etl.dsl._targets import IntoFile, IntoTable, SchemaMode, Target, WriteMode

__all__ = [
    "DTYPE_NAMES",
    "Col",
    "ETLParams",
    "ETLPipeline",
    "ETLProcess",
    "ETLStep",
    "Expr",
    "Format",
    "FromFile",
    "FromTable",
    "IntoFile",
    "IntoTable",
    "Lit",
    "ParamRef",
    "ParamsProxy",
    "SchemaMode",
    "Source",
    "SqlTemplate",
    "StepSQL",
    "Target",
    "WriteMode",
    "col",
    "declared_params_type",
    "params",
    "parse_sql",
    "sources_of",
    "targets_of",
]
