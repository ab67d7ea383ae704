"""Model-to-table mapping: loom model declarations as SQLAlchemy ``Table`` objects.

Example::

    from loom.store.mapping import build_catalog

    catalog = build_catalog([User, Address])
    users = catalog.table(User)  # a sqlalchemy.Table
    catalog.metadata.create_all(sync_connection)
"""

from loom.store._columns import EnumValue, sql_type, sql_type_for
from loom.store._mapping import NAMING_CONVENTION, Catalog, build_catalog, now_expression
from loom.store._types import UTCDateTime, utc_now

__all__ = [
    "NAMING_CONVENTION",
    "Catalog",
    "EnumValue",
    "UTCDateTime",
    "build_catalog",
    "now_expression",
    "sql_type",
    "sql_type_for",
    "utc_now",
]
