"""The `fiducia` command line."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask
from sqlalchemy.orm import Session

from service import create_app
from service.db import get_engine


@contextmanager
def _session(app: Flask) -> Iterator[Session]:
    """Open a session that commits once at the end, or rolls back on error."""
    factory = app.extensions["fiducia.sessionmaker"]
    with factory.begin() as session:
        yield session


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Fiducia: call-quality scoring and quality-based payouts."""
    app = create_app()
    ctx.obj = app
    ctx.call_on_close(get_engine(app).dispose)


@main.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def db_upgrade(app: Flask, revision: str) -> None:
    """Apply the migrations up to REVISION."""
    from service.migrate import upgrade

    upgrade(app.config["DATABASE_URL"], revision)
    click.echo(f"database at {get_engine(app).url.render_as_string()} is at {revision}")


@main.command("bootstrap-admin")
@click.option("--email", default="admin@fiducia.local", show_default=True)
@click.option("--name", default="Administrator", show_default=True)
@click.pass_obj
def bootstrap_admin(app: Flask, email: str, name: str) -> None:
    """Create an admin user and print its API token alone on the last line."""
    from service.accounts.service import create_user, issue_token
    from service.errors import FiduciaError

    try:
        with _session(app) as session:
            user = create_user(
                session=session,
                actor=None,
                organization_id=None,
                name=name,
                email=email,
                role="admin",
            )
            token = issue_token(session=session, actor=None, user_id=user.id)
    except FiduciaError as error:
        raise click.ClickException(f"{error.message}: {error.errors}") from None
    click.echo(f"admin user {user.id} <{user.email}> created; its API token follows")
    click.echo(token.token)


@main.command("demo")
@click.pass_obj
def demo(app: Flask) -> None:
    """Load the demo data (or, if loaded, issue fresh tokens) and print each user's token."""
    from service.demo import load_demo

    with _session(app) as session:
        result = load_demo(session)
    click.echo(result.summary)
    click.echo("")
    click.echo(f"{'role':<9} {'email':<32} token")
    for login in result.logins:
        click.echo(f"{login.role:<9} {login.email:<32} {login.token}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="default: 2 per core, at least 2")
def serve(host: str, port: int, workers: int | None) -> None:
    """Serve the API with gunicorn."""
    workers = workers or max(2, 2 * (os.cpu_count() or 1))
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "service:create_app()",
    ]
    click.echo(f"serving on http://{host}:{port} with {workers} workers")
    sys.stdout.flush()
    os.execv(sys.executable, argv)
