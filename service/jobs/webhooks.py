"""Signed notices of finalized statements, delivered apart from the close and retried."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.accounts.models import Organization
from service.db import utcnow
from service.jobs.models import WebhookDelivery
from service.statements.models import Statement

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Fiducia-Signature"
MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 10


def sign(secret: str, body: bytes) -> str:
    """Return the signature header value of a body: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """Return the wait before the next attempt: 1, 2, 4 ... minutes, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def notice(statement: Statement) -> dict[str, Any]:
    """Return the JSON notice of a finalized statement."""
    return {
        "event": "statement.finalized",
        "statement_id": statement.id,
        "contract_id": statement.contract_id,
        "period": statement.period,
        "currency": statement.currency,
        "total": str(statement.total),
        "volume_only": str(statement.volume_only),
        "content_hash": statement.content_hash,
        "finalized_at": statement.finalized_at.isoformat() if statement.finalized_at else None,
    }


def enqueue_notice(session: Session, statement: Statement, now: datetime | None = None) -> None:
    """Queue the notice for the client's webhook, if it has one; delivery happens elsewhere."""
    client = session.get(Organization, statement.contract.client_id)
    if client is None or not client.webhook_url:
        return
    session.add(
        WebhookDelivery(
            organization_id=client.id,
            statement_id=statement.id,
            url=client.webhook_url,
            payload=notice(statement),
            next_attempt_at=now or utcnow(),
        )
    )


@dataclass
class DeliveryCounts:
    delivered: int = 0
    failed: int = 0


def deliver_due(factory: sessionmaker[Session], now: datetime | None = None) -> DeliveryCounts:
    """Send every notice that is due; a failure is recorded and retried later with backoff."""
    now = now or utcnow()
    counts = DeliveryCounts()
    with factory() as session:
        due = session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.attempts < MAX_ATTEMPTS,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.id)
        ).all()
    for delivery_id in due:
        with factory.begin() as session:
            delivery = session.get(
                WebhookDelivery, delivery_id, with_for_update={"skip_locked": True}
            )
            if delivery is None or delivery.delivered_at is not None:
                continue
            secret = session.get(Organization, delivery.organization_id)
            error = _post(delivery.url, delivery.payload, secret.webhook_secret if secret else None)
            delivery.attempts += 1
            if error is None:
                delivery.delivered_at = utcnow()
                delivery.last_error = None
                counts.delivered += 1
            else:
                delivery.last_error = error
                delivery.next_attempt_at = now + backoff(delivery.attempts)
                counts.failed += 1
                log.warning("webhook %s to %s failed: %s", delivery.id, delivery.url, error)
    return counts


def _post(url: str, payload: dict[str, Any], secret: str | None) -> str | None:
    """POST a notice; return None on a 2xx answer, else what went wrong."""
    body = json.dumps(payload, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "fiducia-webhook"}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = int(response.status)
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return str(error)
    return None if 200 <= status < 300 else f"HTTP {status}"
