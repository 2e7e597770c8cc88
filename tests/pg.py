"""Throwaway databases for tests and benchmarks: a SQLite file, or a PostgreSQL schema.

PostgreSQL is looked for once, on 127.0.0.1:5432, database `test`, users postgres then root
(trust auth). `temporary_schema` creates a fresh schema there and yields a URL whose
search_path points at it; the schema is dropped (CASCADE) afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_UNREACHABLE = (
    "PostgreSQL is not reachable on 127.0.0.1:5432 (users postgres/root, database test)"
)

# The `db_url` parameters: every backend test runs on both; PostgreSQL ones carry the marker.
DB_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pg_base_url() -> str | None:
    """The first PostgreSQL login that works (trust auth), or None."""
    try:
        import psycopg
    except ImportError:
        return None
    for user in ("postgres", "root"):
        try:
            with psycopg.connect(
                f"host=127.0.0.1 port=5432 dbname=test user={user} connect_timeout=2"
            ):
                return f"postgresql+psycopg://{user}@127.0.0.1:5432/test"
        except psycopg.Error:
            continue
    return None


PG_URL = pg_base_url()


@contextmanager
def temporary_schema(prefix: str, base: str | None = None) -> Iterator[str]:
    """A new schema `<prefix>_<random>` on `base` (default PG_URL): its URL, dropped afterwards."""
    base = base or PG_URL
    if base is None:
        raise RuntimeError(PG_UNREACHABLE)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield f"{base}?options=-csearch_path%3D{schema}"
        finally:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@contextmanager
def database_url(backend: str, directory: Path, prefix: str) -> Iterator[str]:
    """An empty database: a SQLite file in `directory`, or a temporary PostgreSQL schema.

    PostgreSQL skips the test with the reason when it is not reachable.
    """
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'records.db'}"
        return
    if PG_URL is None:
        pytest.skip(PG_UNREACHABLE)
    with temporary_schema(prefix) as url:
        yield url
