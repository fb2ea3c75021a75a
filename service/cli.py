"""The `fiducia` command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask
from sqlalchemy.orm import Session

from service import create_app
from service.database.engine import get_engine, writing


@contextmanager
def _session(app: Flask) -> Iterator[Session]:
    """Open a session that commits once at the end, or rolls back on error."""
    with writing(app.extensions["fiducia.sessionmaker"]) as session:
        yield session


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Fiducia: call-quality scoring and quality-based payouts."""
    # The close, the scheduler, the demo and the other commands are an operator's work, not
    # a request: their statements have the long budget (FIDUCIA_DB_LONG_STATEMENT_TIMEOUT_SECONDS).
    app = create_app({"LONG_STATEMENTS": True})
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
    from service.database.migrate import upgrade

    upgrade(app.config["DATABASE_URL"], revision)
    click.echo(f"database at {get_engine(app).url.render_as_string()} is at {revision}")


@main.command("bootstrap-admin")
@click.option("--email", default="admin@fiducia.local", show_default=True)
@click.option("--name", default="Administrator", show_default=True)
@click.pass_obj
def bootstrap_admin(app: Flask, email: str, name: str) -> None:
    """Create an admin user and print its API token alone on the last line."""
    from service.accounts.service import create_user, issue_token
    from service.edge.errors import FiduciaError

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
    from service.demo.data import load_demo

    with _session(app) as session:
        result = load_demo(session)
    click.echo(result.summary)
    click.echo("")
    click.echo(f"{'role':<9} {'email':<32} token")
    for login in result.logins:
        click.echo(f"{login.role:<9} {login.email:<32} {login.token}")


def gunicorn_argv(
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    timeout: int,
    graceful_timeout: int,
    keep_alive: int,
) -> list[str]:
    """Return the gunicorn command line that serves the app with threaded workers."""
    # gthread: a worker's main loop accepts and holds connections and hands a request to a
    # thread, so a client that sends its request slowly holds one thread, not a whole worker.
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--timeout",
        str(timeout),
        "--graceful-timeout",
        str(graceful_timeout),
        "--keep-alive",
        str(keep_alive),
        "--access-logfile",
        "-",
        "service:create_app()",
    ]


def serving_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command gunicorn's options: where it listens and how its workers run."""
    options = [
        click.option("--host", default="127.0.0.1", show_default=True),
        click.option("--port", default=8000, show_default=True, type=int),
        click.option(
            "--workers", default=None, type=click.IntRange(min=1), envvar="FIDUCIA_WEB_WORKERS",
            show_envvar=True, help="processes; default: 2 per core, at least 2",
        ),
        click.option(
            "--threads", default=8, show_default=True, type=click.IntRange(min=1),
            envvar="FIDUCIA_WEB_THREADS", show_envvar=True,
            help="requests each worker serves at once",
        ),
        click.option(
            "--timeout", default=30, show_default=True, type=click.IntRange(min=1),
            envvar="FIDUCIA_WEB_TIMEOUT", show_envvar=True,
            help="seconds a silent worker lives before it is restarted",
        ),
        click.option(
            "--graceful-timeout", default=30, show_default=True, type=click.IntRange(min=1),
            envvar="FIDUCIA_WEB_GRACEFUL_TIMEOUT", show_envvar=True,
            help="seconds a stopping worker has to finish its requests",
        ),
        click.option(
            "--keep-alive", default=5, show_default=True, type=click.IntRange(min=1),
            envvar="FIDUCIA_WEB_KEEP_ALIVE", show_envvar=True,
            help="seconds an idle connection stays open for its next request",
        ),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def _gunicorn(host: str, port: int, workers: int | None, **options: int) -> list[str]:
    """Return gunicorn's command line for the serving options, and say where it serves."""
    workers = workers or max(2, 2 * (os.cpu_count() or 1))
    click.echo(
        f"serving on http://{host}:{port} with {workers} workers of {options['threads']} threads"
    )
    sys.stdout.flush()
    return gunicorn_argv(host=host, port=port, workers=workers, **options)


@main.command("serve")
@serving_options
def serve(**options: Any) -> None:
    """Serve the API and the pages with gunicorn, in threaded workers."""
    argv = _gunicorn(**options)
    os.execv(sys.executable, argv)


@main.command("run")
@serving_options
def run(**options: Any) -> None:
    """Serve the API and the pages, and run the scheduler beside them: the whole product in
    one command, as a deployment runs it in two. Stopping it (Ctrl-C, SIGTERM) stops both."""
    argv = _gunicorn(**options)
    scheduler = subprocess.Popen([sys.executable, "-m", "service.cli", "scheduler"])
    web = subprocess.Popen(argv)
    children = (web, scheduler)

    asked: set[int] = set()

    def stop(signum: int, _frame: object) -> None:
        for child in children:  # each is asked once: a second signal could cut its exit short
            if child.poll() is None and child.pid not in asked:
                asked.add(child.pid)
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop(signal.SIGTERM, None)  # one ended: the other goes too
    codes = [child.wait() for child in children]
    # A child that ended on the signal it was sent stopped as it was asked to.
    stopped = (0, -signal.SIGTERM, -signal.SIGINT)
    raise SystemExit(next((code for code in codes if code not in stopped), 0))


@main.command("scheduler")
@click.option("--once", is_flag=True, help="run each job once and exit")
@click.pass_obj
def scheduler(app: Flask, once: bool) -> None:
    """Run the scheduler: the monthly close and webhook deliveries (one process only)."""
    from service.jobs.scheduler import build_scheduler, run_once, startup_check

    if once:
        run_once(app)
        return
    startup_check(app)
    every = app.config["CLOSE_EVERY_MINUTES"]
    click.echo(f"scheduler started: close every {every} minutes, webhooks every minute")
    jobs = build_scheduler(app)

    def stop(_signum: int, _frame: object) -> None:
        # A job cut short rolls back whole (each item is its own transaction): stop at once.
        if jobs.running:
            jobs.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    jobs.start()


@main.command("close")
@click.option("--period", required=True, help="the month to close, YYYY-MM")
@click.option("--contract", "contract_id", type=int, default=None, help="only this contract")
@click.option("--finalize", is_flag=True, help="finalize now, before the dispute window ends")
@click.pass_obj
def close(app: Flask, period: str, contract_id: int | None, finalize: bool) -> None:
    """Run the monthly close for one period, as the scheduler does."""
    from contracts.periods import Period
    from service.database.engine import utcnow
    from service.jobs.service import due_items, run_close

    try:
        month = Period.parse(period)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--period") from None
    factory = app.extensions["fiducia.sessionmaker"]
    with factory() as session:
        total = len(due_items(session, utcnow(), period=month, contract_id=contract_id))
    if total == 0:
        click.echo(f"nothing to close for {month}: it has not ended, or every statement is final")
        return
    with click.progressbar(length=total, label=f"closing {month}", show_pos=True) as bar:
        run = run_close(
            factory,
            period=month,
            contract_id=contract_id,
            finalize=finalize,
            on_item=lambda _item, _outcome: bar.update(1),
        )
    click.echo(f"close run {run.id}: {run.outcome} {run.counts}")
    if run.error:
        click.echo(run.error, err=True)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
