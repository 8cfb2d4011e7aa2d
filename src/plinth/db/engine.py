"""The database handle: one engine, short read and write transactions.

SQLite runs in WAL mode with a busy timeout. Write transactions start with
``BEGIN IMMEDIATE`` (so a reader never has to upgrade to a writer and hit SQLITE_BUSY) and
are funnelled through one lock per process, so concurrent writers queue instead of spinning
on the busy handler. PostgreSQL needs neither: it gets a connection pool and plain
transactions.

``without_waiting()`` lets a caller on the server's event loop run a short write in place
(``server/inline.py`` says why): every write started inside it either begins at once or
raises ``WriteWouldWait`` before it has written anything.
"""

from __future__ import annotations

import contextvars
import sqlite3
import threading
from collections.abc import Hashable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

_WRITE_OPTION = "plinth_write"
_NO_WAIT_OPTION = "plinth_no_wait"
_BUSY_TIMEOUT_MS = 60000
_WAL_AUTOCHECKPOINT_PAGES = 10_000
"""Pages the WAL may hold before a commit copies them back into the database (SQLite's
default is 1,000). A run's commit dirties ~50 pages, mostly the same index leaves as the
run before; checkpointing every ~200 runs instead of every ~20 copies each hot page and
syncs the files a tenth as often (MLflow-shaped runs: ~310 -> ~345/s in interleaved
pairs). The cost is a WAL file of ~40 MB beside the database; one that grew past 64 MiB
(readers kept a checkpoint from finishing) is cut back to that once a checkpoint resets it."""
_WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
_no_waiting: contextvars.ContextVar[bool] = contextvars.ContextVar("no_waiting", default=False)


class WriteWouldWait(Exception):
    """A write inside ``Database.without_waiting()`` found the write lock taken (by another
    thread, or by another process on the SQLite file); nothing was written."""


class Database:
    """An engine plus the transaction discipline every store uses."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "NORMAL") -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.is_postgres = self.url.get_backend_name() == "postgresql"
        self.caches: dict[Hashable, Any] = {}
        """Facts that never change once committed (ids by name), cached per database."""
        self.writes_one_at_a_time = self.is_sqlite
        """Writes queue behind one lock anyway (SQLite's single writer)."""
        if self.is_sqlite:
            database = self.url.database
            if database and database != ":memory:":
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                self.url,
                connect_args={"check_same_thread": False, "timeout": 60},
                pool_size=8,
                max_overflow=32,
            )
            _configure_sqlite(self.engine, sqlite_synchronous)
            self._write_lock: AbstractContextManager[Any] = threading.Lock()
        else:
            self.engine = create_engine(self.url, pool_size=10, max_overflow=30, pool_pre_ping=True)
            self._write_lock = nullcontext()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection inside a read transaction (a consistent snapshot)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection inside a write transaction; committed on success, rolled back on error."""
        if _no_waiting.get():
            with self._write_lock_at_once(), self.engine.connect() as conn:
                conn = conn.execution_options(**{_WRITE_OPTION: True, _NO_WAIT_OPTION: True})
                with conn.begin():
                    yield conn
            return
        with self._write_lock, self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def without_waiting(self) -> Iterator[None]:
        """Writes in this block raise ``WriteWouldWait`` instead of queueing for the lock."""
        token = _no_waiting.set(True)
        try:
            yield
        finally:
            _no_waiting.reset(token)

    @contextmanager
    def _write_lock_at_once(self) -> Iterator[None]:
        lock = self._write_lock
        if isinstance(lock, nullcontext):
            yield
            return
        if not lock.acquire(blocking=False):  # type: ignore[attr-defined]
            raise WriteWouldWait
        try:
            yield
        finally:
            lock.release()  # type: ignore[attr-defined]

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    """Take transaction control from the sqlite3 module and set the pragmas we rely on."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute(f"PRAGMA wal_autocheckpoint={_WAL_AUTOCHECKPOINT_PAGES}")
        cursor.execute(f"PRAGMA journal_size_limit={_WAL_SIZE_LIMIT_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if not options.get(_WRITE_OPTION, False):
            conn.exec_driver_sql("BEGIN")
        elif not options.get(_NO_WAIT_OPTION, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:  # another process may hold the file's write lock: do not wait for it
            dbapi_connection: Any = conn.connection.dbapi_connection
            dbapi_connection.execute("PRAGMA busy_timeout=0")
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise WriteWouldWait from exc
            finally:
                dbapi_connection.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
