"""The scheduler's part in calibration: a session closes on its own at `closes_at`."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.calibration.models import CalibrationSession
from service.calibration.service import close_due
from service.database.engine import utcnow, writing

log = logging.getLogger(__name__)


def close_due_sessions(factory: sessionmaker[Session], now: datetime | None = None) -> int:
    """Close every open session whose closing time has come, each in its own transaction
    (one that fails does not hold back the others); return how many closed."""
    now = now or utcnow()
    with factory() as session:
        due = session.scalars(
            select(CalibrationSession.id).where(
                CalibrationSession.status == "open", CalibrationSession.closes_at <= now
            )
        ).all()
    closed = 0
    for session_id in due:
        try:
            with writing(factory) as session:
                closed += close_due(session, now, session_id=session_id)
        except Exception:  # one broken session must not stop the others
            log.exception("calibration session %s could not be closed", session_id)
    return closed
