"""The Alembic history builds exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from service.db import engine_url
from service.migrate import alembic_config
from service.models import Base


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(engine_url(database_url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
        current = context.get_current_revision()
    engine.dispose()
    assert differences == []
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert current == head
