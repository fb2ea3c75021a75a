"""The instance folder and what Fiducia keeps in it are its owner's alone (DESIGN §14).

The SQLite file holds password hashes and webhook secrets; the secret key signs sessions.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from service import create_app


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Return an instance folder, made 0755 beforehand as a mount point would be, that the app
    uses for its SQLite file and its secret key (a common umask: files 0644, folders 0755)."""
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    monkeypatch.setenv("FIDUCIA_INSTANCE_PATH", str(folder))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("FIDUCIA_SECRET_KEY", raising=False)
    umask = os.umask(0o022)
    try:
        yield folder
    finally:
        os.umask(umask)


def write_something(folder: Path) -> dict[str, int]:
    """Start the app on the folder and write to its database (SQLite makes -wal and -shm);
    return the mode of each file in the folder while the database is open."""
    app = create_app({"TESTING": True})
    assert app.config["DATABASE_URL"] == f"sqlite:///{folder / 'fiducia.sqlite3'}"
    engine = app.extensions["fiducia.engine"]
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS notes (note TEXT)"))
        connection.execute(text("INSERT INTO notes VALUES ('kept private')"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT note FROM notes")).scalar_one() == "kept private"
        files = {path.name: mode(path) for path in folder.iterdir()}
    engine.dispose()
    return files


def test_a_pre_made_instance_folder_and_every_file_made_in_it_are_private(
    instance: Path,
) -> None:
    files = write_something(instance)
    assert mode(instance) == 0o700
    assert files == {
        "fiducia.sqlite3": 0o600,
        "fiducia.sqlite3-wal": 0o600,
        "fiducia.sqlite3-shm": 0o600,
        "secret_key": 0o600,
    }


def test_files_left_readable_by_others_are_made_private_when_the_app_starts(
    instance: Path,
) -> None:
    (instance / "secret_key").write_text("k" * 48)
    database = instance / "fiducia.sqlite3"
    keeper = sqlite3.connect(database)  # open, so that its -wal and -shm stay as they are
    try:
        keeper.execute("PRAGMA journal_mode=WAL")
        keeper.execute("CREATE TABLE notes (note TEXT)")
        keeper.commit()
        loose = {path.name: mode(path) for path in instance.iterdir()}
        assert loose == dict.fromkeys(
            ["fiducia.sqlite3", "fiducia.sqlite3-wal", "fiducia.sqlite3-shm", "secret_key"], 0o644
        )
        app = create_app({"TESTING": True})
        assert app.secret_key == "k" * 48  # kept, only its mode changes
        assert mode(instance) == 0o700
        assert {path.name: mode(path) for path in instance.iterdir()} == dict.fromkeys(loose, 0o600)
        app.extensions["fiducia.engine"].dispose()
    finally:
        keeper.close()
