"""Alembic environment: the URL comes from the caller, the metadata from the models."""

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy.engine import Connection

from service.accounts import models as accounts
from service.agreements import models as agreements
from service.calibration import models as calibration
from service.calls import models as calls
from service.database import stamps
from service.database.engine import Base, make_engine
from service.disputes import models as disputes
from service.erasure import models as erasure
from service.evaluations import models as evaluations
from service.figures import models as figures
from service.forms import models as forms
from service.imports.qm import models as qm_imports
from service.jobs import models as jobs
from service.notices import models as notices
from service.statements import models as statements
from service.surveys import models as surveys
from service.volumes import models as volumes

# Every domain's models, imported so that the metadata holds every table.
MODELS = (accounts, agreements, calibration, calls, disputes, erasure, evaluations, figures, forms,
          jobs, notices, qm_imports, stamps, statements, surveys, volumes)  # fmt: skip

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with _foreign_keys_checked_after(connection), context.begin_transaction():
        context.run_migrations()


@contextmanager
def _foreign_keys_checked_after(connection: Connection) -> Iterator[None]:
    """On SQLite, migrate with foreign keys off, then check every key and turn them on again.

    SQLite changes a column by rebuilding its table, and dropping the old table would fail
    (or, deferred, never recover) for the rows of other tables that refer to it. SQLite's
    own procedure for this: keys off outside the transaction, `foreign_key_check` after.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")  # outside any transaction: autocommit
    try:
        yield
        broken = driver.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows that refer to nothing: {broken[:5]}")
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `fiducia db upgrade`")
run_migrations_online()
