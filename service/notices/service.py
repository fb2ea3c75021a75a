"""Signed notices: queued in the outbox with the change they announce, delivered apart.

Delivery runs outside any database transaction: due notices are claimed in a short
transaction (their next attempt pushed a lease ahead, so no other scheduler takes them),
sent with no transaction open, and each outcome is recorded in a short transaction of its
own. Notices to different receivers are sent side by side, so one slow receiver delays only
its own notices.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import ssl
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.accounts.models import Organization
from service.database.engine import utcnow, writing
from service.edge.actors import Actor
from service.edge.errors import Invalid, NotFound
from service.notices import delivery
from service.notices.addresses import AddressPolicy, RefusedURL, check
from service.notices.models import WebhookDelivery
from service.notices.texts import summary

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Fiducia-Signature"
MAX_ATTEMPTS = 8
DEADLINE_SECONDS = 10.0
# Claimed notices wait this long before another run may take them again (a crashed sender).
LEASE = timedelta(minutes=15)
RECEIVERS_AT_ONCE = 8


def sign(secret: str, body: bytes) -> str:
    """Return the signature header value of a body: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """Return the wait before the next attempt: 1, 2, 4 ... minutes, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def set_webhook(
    *,
    session: Session,
    actor: Actor,
    organization_id: int,
    url: str | None,
    secret: str | None,
    policy: AddressPolicy,
) -> Organization:
    """Set (or remove) where an organization hears of what concerns it: a client of its
    finalized statements and disputes, a supplier of its disputes and amended audits.

    The URL must be one the policy lets Fiducia call (public https by default).
    """
    if not actor.is_admin and actor.organization_id != organization_id:
        raise NotFound("no such organization")
    actor.require("client", "supplier")
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise NotFound("no such organization")
    if url is not None and not secret:
        raise Invalid(
            "every notice is signed",
            {"secret": ["a webhook needs a secret to sign its notices with"]},
        )
    if url is not None:
        try:
            check(url, policy)
        except RefusedURL as refused:
            raise Invalid("Fiducia may not call this URL", {"url": [str(refused)]}) from None
    organization.webhook_url = url
    organization.webhook_secret = secret if url else None
    session.flush()
    return organization


def enqueue(
    session: Session,
    organization_id: int,
    payload: dict[str, Any],
    now: datetime | None = None,
    *,
    statement_id: int | None = None,
) -> None:
    """Queue a notice for an organization's webhook, if it has one, in the caller's transaction.

    The notice gets its human text (`summary`) in the organization's language.
    """
    organization = session.get(Organization, organization_id)
    if organization is None or not organization.webhook_url:
        return
    language = organization.language
    session.add(
        WebhookDelivery(
            organization_id=organization.id,
            statement_id=statement_id,
            url=organization.webhook_url,
            payload=payload | {"summary": summary(payload, language), "language": language},
            next_attempt_at=now or utcnow(),
        )
    )


def enqueue_for_both(
    session: Session, parties: tuple[int, int], payload: dict[str, Any], now: datetime | None
) -> None:
    """Queue a notice for both organizations of a contract (client, supplier)."""
    for organization_id in parties:
        enqueue(session, organization_id, payload, now)


@dataclass
class DeliveryCounts:
    delivered: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    url: str
    body: bytes
    headers: dict[str, str]


Sender = Callable[
    [str, bytes, dict[str, str], AddressPolicy, float, ssl.SSLContext | None], str | None
]


def deliver_due(
    factory: sessionmaker[Session],
    now: datetime | None = None,
    *,
    policy: AddressPolicy | None = None,
    deadline: float = DEADLINE_SECONDS,
    tls: ssl.SSLContext | None = None,
    send: Sender = delivery.post,
) -> DeliveryCounts:
    """Send every notice that is due; a failure is recorded and retried later with backoff."""
    now = now or utcnow()
    policy = policy or AddressPolicy()
    claimed = _claim(factory, now)
    by_receiver: dict[str, list[_Claimed]] = defaultdict(list)
    for notice in claimed:
        by_receiver[urlsplit(notice.url).netloc].append(notice)

    def deliver_in_order(notices: list[_Claimed]) -> list[str | None]:
        errors = []
        for notice in notices:
            error = send(notice.url, notice.body, notice.headers, policy, deadline, tls)
            _record(factory, notice.id, error, now)
            if error is not None:
                log.warning("webhook %s to %s failed: %s", notice.id, notice.url, error)
            errors.append(error)
        return errors

    workers = max(1, min(RECEIVERS_AT_ONCE, len(by_receiver)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook") as pool:
        outcomes = [
            e for errors in pool.map(deliver_in_order, by_receiver.values()) for e in errors
        ]
    failed = sum(error is not None for error in outcomes)
    return DeliveryCounts(delivered=len(outcomes) - failed, failed=failed)


def _claim(factory: sessionmaker[Session], now: datetime) -> list[_Claimed]:
    """Take the due notices for this run in one short transaction, and push them a lease on."""
    with writing(factory) as session:
        due = session.execute(
            select(WebhookDelivery, Organization.webhook_secret)
            .join(Organization, Organization.id == WebhookDelivery.organization_id)
            .where(
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.attempts < MAX_ATTEMPTS,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.id)
            .with_for_update(skip_locked=True, of=WebhookDelivery)
        ).all()
        claimed = []
        for notice, secret in due:
            body = json.dumps(notice.payload, sort_keys=True).encode()
            headers = {"Content-Type": "application/json"}
            if secret:
                headers[SIGNATURE_HEADER] = sign(secret, body)
            claimed.append(_Claimed(notice.id, notice.url, body, headers))
            notice.next_attempt_at = now + LEASE
    return claimed


def _record(
    factory: sessionmaker[Session], notice_id: int, error: str | None, now: datetime
) -> None:
    """Record one attempt's outcome in a short transaction of its own."""
    with writing(factory) as session:
        notice = session.get_one(WebhookDelivery, notice_id)
        notice.attempts += 1
        if error is None:
            notice.delivered_at = utcnow()
            notice.last_error = None
        else:
            notice.last_error = error[:2000]
            notice.next_attempt_at = now + backoff(notice.attempts)
