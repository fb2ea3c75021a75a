"""Configuration, read from the environment in one place."""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SQLITE_FILE = "fiducia.sqlite3"
# SQLite's own files beside the database, which it makes with the database file's mode.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
SECRET_KEY_FILE = "secret_key"
# The instance folder and every file Fiducia keeps in it are its owner's alone.
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
MIN_SECRET_KEY_LENGTH = 32
# A batch of 1,000 evaluations with every field at its longest and 10,000-character Italian
# comments sent as escaped JSON measures 21 MiB; nothing else the service takes comes close.
MAX_CONTENT_LENGTH = 32 * 1024 * 1024
# A form or terms document: the standard form (16 questions) is 3 KB, its terms 1 KB.
MAX_DOCUMENT_LENGTH = 256 * 1024
# A month's call log as CSV: 5,000,000 rows of about 100 bytes; gzip makes it far smaller.
MAX_UPLOAD_LENGTH = 1024 * 1024 * 1024


def default_database_url(instance_path: str | os.PathLike[str]) -> str:
    """Return the URL of the embedded SQLite database in the instance folder."""
    return f"sqlite:///{Path(instance_path) / SQLITE_FILE}"


def instance_path() -> str | None:
    """Return the instance folder named by FIDUCIA_INSTANCE_PATH (None: Flask's default)."""
    return os.environ.get("FIDUCIA_INSTANCE_PATH") or None


def parse_networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Parse a comma-separated list of networks (`10.1.0.0/16, 127.0.0.1/32`)."""
    return tuple(ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip())


def from_environment(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Build the Flask configuration from the process environment."""
    env = os.environ
    return {
        "DATABASE_URL": env.get("DATABASE_URL") or default_database_url(folder),
        # None: a random key kept in the instance folder (see `instance_secret_key`).
        "SECRET_KEY": env.get("FIDUCIA_SECRET_KEY") or None,
        "LOG_LEVEL": env.get("FIDUCIA_LOG_LEVEL", "INFO"),
        "CLOSE_EVERY_MINUTES": int(env.get("FIDUCIA_CLOSE_EVERY_MINUTES", "60")),
        # Months after which the agents' personal data is erased (DESIGN 18).
        "RETENTION_MONTHS": retention_months(env.get("FIDUCIA_RETENTION_MONTHS", "24")),
        "SESSION_COOKIE_SECURE": env.get("FIDUCIA_SECURE_COOKIES") == "1",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        # Reverse proxies in front of the service whose X-Forwarded-For may be believed.
        "TRUSTED_PROXIES": int(env.get("FIDUCIA_TRUSTED_PROXIES", "0")),
        # Sign-in throttle: failures counted in the database, which every worker shares.
        "SIGN_IN_WINDOW": timedelta(seconds=int(env.get("FIDUCIA_SIGN_IN_WINDOW_SECONDS", "900"))),
        "SIGN_IN_ACCOUNT_LIMIT": int(env.get("FIDUCIA_SIGN_IN_ACCOUNT_LIMIT", "5")),
        "SIGN_IN_ADDRESS_LIMIT": int(env.get("FIDUCIA_SIGN_IN_ADDRESS_LIMIT", "20")),
        "MAX_CONTENT_LENGTH": int(env.get("FIDUCIA_MAX_CONTENT_LENGTH", MAX_CONTENT_LENGTH)),
        # The call log's CSV upload only (what it unpacks to, too): every other body keeps
        # MAX_CONTENT_LENGTH, but for documents.
        "MAX_UPLOAD_LENGTH": int(env.get("FIDUCIA_MAX_UPLOAD_LENGTH", MAX_UPLOAD_LENGTH)),
        # A form or terms document, as a request's body (API) or a page's text or file.
        "MAX_DOCUMENT_LENGTH": int(env.get("FIDUCIA_MAX_DOCUMENT_LENGTH", MAX_DOCUMENT_LENGTH)),
        # Webhooks go to public https addresses; an operator may allow http, and networks.
        "WEBHOOK_ALLOW_HTTP": env.get("FIDUCIA_WEBHOOK_ALLOW_HTTP") == "1",
        "WEBHOOK_ALLOWED_NETWORKS": parse_networks(env.get("FIDUCIA_WEBHOOK_ALLOWED_NETWORKS", "")),
        "WEBHOOK_DEADLINE_SECONDS": float(env.get("FIDUCIA_WEBHOOK_DEADLINE_SECONDS", "10")),
        # Every wait on the database is bounded (seconds), so a database that is down, silent
        # or locked fails a request (503) in bounded time instead of holding its thread.
        "DB_CONNECT_TIMEOUT": int(env.get("FIDUCIA_DB_CONNECT_TIMEOUT_SECONDS", "5")),
        "DB_STATEMENT_TIMEOUT": float(env.get("FIDUCIA_DB_STATEMENT_TIMEOUT_SECONDS", "30")),
        "DB_LOCK_TIMEOUT": float(env.get("FIDUCIA_DB_LOCK_TIMEOUT_SECONDS", "10")),
        # The close, the scheduler and a call log's upload (5,000,000 rows in one COPY).
        "DB_LONG_STATEMENT_TIMEOUT": float(
            env.get("FIDUCIA_DB_LONG_STATEMENT_TIMEOUT_SECONDS", "600")
        ),
        # Times that belong to no contract (tokens issued, forms published) are shown here.
        "DISPLAY_TIMEZONE": checked_timezone(env.get("FIDUCIA_TIMEZONE") or "UTC"),
    }


def retention_months(text: str) -> int:
    """Return the months personal data is kept: a whole number of at least 1; refuse to start
    otherwise."""
    if not (text.isascii() and text.isdecimal()) or not 1 <= int(text) <= 1200:
        raise RuntimeError(f"FIDUCIA_RETENTION_MONTHS: {text!r} is not a number of months")
    return int(text)


def checked_timezone(name: str) -> str:
    """Return a time zone's name if the system knows it; refuse to start otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuntimeError(f"FIDUCIA_TIMEZONE: {name!r} is not a time zone") from None
    return name


def checked_secret_key(configured: str | None, folder: str | os.PathLike[str]) -> str:
    """Return the configured secret key if it is long enough, else the instance folder's."""
    if configured is None:
        return instance_secret_key(folder)
    if len(configured) < MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(
            f"FIDUCIA_SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters; "
            "use a long random value, or unset it to have one made in the instance folder"
        )
    return configured


def instance_secret_key(folder: str | os.PathLike[str]) -> str:
    """Return the key kept in the instance folder, made at random (mode 0600) the first time.

    Several workers may start at once: each writes its own candidate to a private file and
    links it into place; the link of all but the first fails, and all read the same key.
    """
    path = private_folder(folder) / SECRET_KEY_FILE
    if not path.exists():
        candidate = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(8)}")
        descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(candidate)
    private_file(path)  # a key left readable by others before is made private too
    return path.read_text().strip()


def private_database(folder: str | os.PathLike[str]) -> None:
    """Make the embedded SQLite database private before SQLite opens it: the folder 0700, the
    file 0600 (made empty if it is new), and its -wal, -shm and -journal 0600 where they are.

    SQLite makes a new database 0644 (less the umask) and its companions with the database's
    mode, so a file made private first keeps them private too.
    """
    database = private_folder(folder) / SQLITE_FILE
    os.close(os.open(database, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    for path in [database, *(database.with_name(SQLITE_FILE + end) for end in SQLITE_COMPANIONS)]:
        private_file(path)


def private_folder(folder: str | os.PathLike[str]) -> Path:
    """Make the instance folder, or an existing one whatever its mode, its owner's alone."""
    path = Path(folder)
    os.makedirs(path, mode=PRIVATE_FOLDER, exist_ok=True)
    _restrict(path, PRIVATE_FOLDER)
    return path


def private_file(path: Path) -> None:
    """Make a file of the instance folder its owner's alone (0600), if it is there."""
    try:
        _restrict(path, PRIVATE_FILE)
    except FileNotFoundError:
        pass  # SQLite removes its -wal and -shm when the last connection closes


def _restrict(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except PermissionError as error:
        raise RuntimeError(
            f"{path} cannot be made private (mode {mode:o}): {error.strerror}; the instance "
            "folder (FIDUCIA_INSTANCE_PATH) must belong to the user Fiducia runs as"
        ) from None
