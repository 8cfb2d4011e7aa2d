"""Statements for the hot paths: built with SQLAlchemy Core, compiled once per dialect, run
straight on the DB-API cursor of the current transaction.

SQLAlchemy's per-execution work (cache keys, parameter processing, result objects) is
~150 µs a statement on a small machine, and a run's batch takes several statements. A
``Prepared`` skips it: only for statements whose values the driver takes as they are
(str, int, float, bool, bytes, None), with no expanding ``IN`` parameters, and rows that
give every column SQLAlchemy would fill from a Python-side default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import Insert


class Prepared:
    """One statement, compiled lazily for each dialect it meets."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...] | None]] = {}

    def _sql(
        self, conn: Connection, values: Mapping[str, Any]
    ) -> tuple[str, tuple[str, ...] | None]:
        # An INSERT names the columns of the rows it is given (like SQLAlchemy's executemany).
        keys = tuple(sorted(values)) if isinstance(self.statement, Insert) else ()
        dialect = conn.dialect
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            compiled = self.statement.compile(  # type: ignore[attr-defined]
                dialect=dialect, column_keys=list(keys) or None
            )
            names = tuple(compiled.positiontup) if dialect.positional else None
            found = self._compiled[(dialect.name, keys)] = (str(compiled), names)
        return found

    def _arguments(
        self, names: tuple[str, ...] | None, values: Mapping[str, Any]
    ) -> Sequence[Any] | Mapping[str, Any]:
        return values if names is None else tuple(values[name] for name in names)

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run once; the rows it returns (for SELECT or RETURNING), as tuples."""
        sql, names = self._sql(conn, values)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, self._arguments(names, values))
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row; every row has the same keys."""
        if not rows:
            return
        sql, names = self._sql(conn, rows[0])
        arguments: list[Any] = [self._arguments(names, row) for row in rows]
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, arguments)
        finally:
            cursor.close()
