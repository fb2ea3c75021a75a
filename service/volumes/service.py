"""Daily volumes: upserted per day, every change kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.periods import Period
from service.agreements.service import get_contract, lock_contracts
from service.database.engine import utcnow
from service.edge.actors import Actor
from service.edge.errors import Invalid
from service.volumes.models import DailyVolume, VolumeChange


@dataclass(frozen=True, slots=True)
class Upsert:
    contract_id: int
    changed: int
    unchanged: int
    days: list[DailyVolume]


@dataclass(frozen=True, slots=True)
class Volumes:
    contract_id: int
    period: Period | None
    units: int
    days: list[DailyVolume]
    changes: list[VolumeChange]


def upsert_volumes(
    *, session: Session, actor: Actor, contract_id: int, volumes: Sequence[dict[str, Any]]
) -> Upsert:
    """Set the units of each given day; record each real change with who made it."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    actor.require("supplier")
    # One writer of a contract's days at a time, so each change follows the one before it.
    lock_contracts(session, [contract.id], "volumes")
    seen: dict[date, int] = {}
    errors: dict[int, Any] = {}
    for index, volume in enumerate(volumes):
        if volume["date"] in seen:
            errors[index] = {"date": [f"repeats entry {seen[volume['date']]}"]}
        seen.setdefault(volume["date"], index)
    if errors:
        raise Invalid("each day appears once", {"volumes": errors})
    stored = {
        row.day: row
        for row in session.scalars(
            select(DailyVolume).where(
                DailyVolume.contract_id == contract.id, DailyVolume.day.in_(seen)
            )
        )
    }
    now = utcnow()
    changed = unchanged = 0
    days: list[DailyVolume] = []
    for volume in volumes:
        day, units = volume["date"], volume["units"]
        row = stored.get(day)
        if row is not None and row.units == units:
            unchanged += 1
            days.append(row)
            continue
        session.add(
            VolumeChange(
                contract_id=contract.id,
                day=day,
                previous_units=None if row is None else row.units,
                units=units,
                changed_at=now,
                changed_by=actor.user_id,
            )
        )
        if row is None:
            row = DailyVolume(contract_id=contract.id, day=day)
            session.add(row)
        row.units, row.updated_at, row.updated_by = units, now, actor.user_id
        changed += 1
        days.append(row)
    session.flush()
    days.sort(key=lambda row: row.day)
    return Upsert(contract_id=contract.id, changed=changed, unchanged=unchanged, days=days)


def read_volumes(
    *, session: Session, actor: Actor, contract_id: int, period: Period | None = None
) -> Volumes:
    """Return a contract's daily volumes (of one month, or all) and their history."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    days_query = select(DailyVolume).where(DailyVolume.contract_id == contract.id)
    changes_query = select(VolumeChange).where(VolumeChange.contract_id == contract.id)
    if period is not None:
        days_query = days_query.where(
            DailyVolume.day >= period.first_day, DailyVolume.day < period.end_day
        )
        changes_query = changes_query.where(
            VolumeChange.day >= period.first_day, VolumeChange.day < period.end_day
        )
    days = list(session.scalars(days_query.order_by(DailyVolume.day)))
    changes = list(session.scalars(changes_query.order_by(VolumeChange.id)))
    return Volumes(
        contract_id=contract.id,
        period=period,
        units=sum(row.units for row in days),
        days=days,
        changes=changes,
    )
