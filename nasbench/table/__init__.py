"""Typed Parquet tables: schema, manifest, writer, reader and catalog."""

from nasbench.table.catalog import cited_identity, list_tables, load_table, resolve_table, table_dirs
from nasbench.table.manifest import Manifest, ShardInfo
from nasbench.table.reader import Table, read_table
from nasbench.table.schema import CURVE_COLUMNS, SCHEMA_VERSION, arrow_schema
from nasbench.table.verify import verify_table
from nasbench.table.writer import TableWriter

__all__ = [
    "CURVE_COLUMNS",
    "SCHEMA_VERSION",
    "Manifest",
    "ShardInfo",
    "Table",
    "TableWriter",
    "arrow_schema",
    "cited_identity",
    "list_tables",
    "load_table",
    "read_table",
    "resolve_table",
    "table_dirs",
    "verify_table",
]
