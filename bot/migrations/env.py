"""Alembic environment for the study records (bot/records.py).

Run in-process by `Records.upgrade()`, which passes its open connection in
`config.attributes["connection"]`. From the command line (`alembic -c bot/migrations/alembic.ini
revision -m "..."`) the URL comes from `-x url=...`, else `sqlalchemy.url`, else the settings
(DATABASE_URL or SQLite under the data directory).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bot.records import Base, make_engine, normalize_url

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        from knowledge.settings import Settings

        url = Settings().database_url
    return normalize_url(url).render_as_string(hide_password=False)


def _configure(**kwargs: object) -> None:
    context.configure(target_metadata=target_metadata, compare_type=True, **kwargs)


def _run(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = _url()
    _configure(url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
