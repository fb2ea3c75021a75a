"""The monthly close (DESIGN §8): due work derived from the database, each item on its own."""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from contracts.deadlines import month_timeline
from contracts.periods import Period
from service.agreements.models import Contract
from service.agreements.service import terms_for_period, timeline_of
from service.calls import samples
from service.database.engine import utcnow, writing
from service.database.partitions import ensure_partitions, months_ahead
from service.disputes.figures import unresolved_disputes
from service.edge.actors import OPERATOR, Actor
from service.edge.errors import Conflict
from service.jobs.models import JobRun
from service.statements import reports
from service.statements import service as statements
from service.statements.models import Statement

log = logging.getLogger(__name__)

CLOSE = "close"


@dataclass(frozen=True, order=True, slots=True)
class Item:
    """One contract's period to close."""

    period: Period
    contract_id: int


@dataclass
class CloseReport:
    """What a close did, item by item counted by outcome, with the failures described."""

    counts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if not self.failures:
            return "success"
        return "partial" if sum(self.counts.values()) > len(self.failures) else "failed"


def lock_key(item: Item) -> int:
    """Return the advisory lock key of an item: unique per contract and month."""
    return item.contract_id * 1_000_000 + item.period.year * 100 + item.period.month


def _local(contract: Contract, period: Period) -> ZoneInfo:
    return ZoneInfo(terms_for_period(contract, period).timezone)


def last_ended_period(contract: Contract, now: datetime) -> Period:
    """Return the latest month that has ended in the contract's time zone."""
    current = Period.of(now.date())
    return Period.of(now.astimezone(_local(contract, current)).date()).previous()


def dispute_window_closed(contract: Contract, period: Period, now: datetime) -> bool:
    """Say whether the month's dispute window is over (see `contracts.deadlines`)."""
    return now >= timeline_of(contract, period).window_closes


def finalize_due(
    session: Session,
    contract: Contract,
    period: Period,
    now: datetime,
    waiting: Sequence[int] | None = None,
) -> bool:
    """Say whether the close finalizes a period now (DESIGN 12, money).

    After the month's dispute window (under two-stage samples it runs from the audits' due
    date), unless a dispute of the month still waits (open or escalated); a waiting dispute
    holds the month back for `disputes.decide_within_days` more at most. What it changes
    after that reaches a later statement as a prior-period adjustment. Where the call log
    moves the money, never before the month's log has closed; where the terms pay on repeat
    contacts, never before `within_days` after the month. `waiting`: the month's unresolved
    disputes, if already counted in this transaction.
    """
    terms = terms_for_period(contract, period).terms
    timeline = month_timeline(terms, period)
    if now < timeline.window_closes:
        return False
    if terms.uses_call_log and now < timeline.log_closes:
        return False
    if timeline.repeats_final is not None and now < timeline.repeats_final:
        return False  # a repeat contact may still come: the month's figure is not final
    if waiting is None:
        waiting = unresolved_disputes(session, contract.id, period)
    if not waiting:
        return True
    return now >= timeline.holds_until


def due_items(
    session: Session,
    now: datetime,
    *,
    period: Period | None = None,
    contract_id: int | None = None,
) -> list[Item]:
    """List every ended period of every running contract that has no final statement yet."""
    with_terms = selectinload(Contract.terms_versions)
    contracts = select(Contract).order_by(Contract.id).options(with_terms)
    if contract_id is not None:
        contracts = contracts.where(Contract.id == contract_id)
    final = select(Statement.contract_id, Statement.period).where(Statement.status == "final")
    finals = {(contract, month) for contract, month in session.execute(final)}
    items: list[Item] = []
    for contract in session.scalars(contracts):
        first = Period.of(contract.terms_versions[0].effective_from)
        last = last_ended_period(contract, now)
        if contract.ends_on is not None:
            last = min(last, Period.of(contract.ends_on))
        wanted = [period] if period is not None else _months(first, last)
        items.extend(
            Item(month, contract.id)
            for month in wanted
            if first <= month <= last and (contract.id, month) not in finals
        )
    return sorted(items)


def _months(first: Period, last: Period) -> list[Period]:
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = month.next()
    return months


@contextmanager
def _holding(factory: sessionmaker[Session], item: Item) -> Iterator[Session | None]:
    """Open an item's transaction holding its lock; None when another process holds it.

    PostgreSQL: an advisory lock per contract and month. SQLite has none: the write lock,
    taken first, makes a second process wait for this item to commit and then find it done.
    """
    with writing(factory) as session:
        if session.get_bind().dialect.name == "postgresql":
            locked = session.scalar(select(func.pg_try_advisory_xact_lock(lock_key(item))))
            if not locked:
                yield None  # another scheduler holds this item right now
                return
        yield session


def draw_item(factory: sessionmaker[Session], item: Item, now: datetime) -> str:
    """Commit a sampled month's seeds if they never were, and draw each of its samples that is
    due (the self sample once its log has closed, the audit sample once the self-assessments
    are due), under the item's lock; return what happened."""
    with _holding(factory, item) as session:
        if session is None:
            return "busy"
        contract = session.get_one(Contract, item.contract_id)
        before = samples.sample_of(session, contract.id, item.period)
        if before is not None and before.audit_drawn:
            return "drawn_before"
        stages = (before.drawn, before.audit_drawn) if before is not None else (False, False)
        after = samples.draw_samples(session, contract, item.period, now)
        if after is not None:
            return "drawn" if (after.drawn, after.audit_drawn) != stages else "waiting"
        samples.commit_seed(session, contract, item.period, now)  # the log is still open
        return "committed" if before is None else "waiting"


def _lock_together(session: Session, items: Sequence[Item]) -> list[Item]:
    """Take the advisory locks of many items in one statement; return those this process holds
    (PostgreSQL). Each is tried, never waited for: an item another process holds is its work.
    SQLite has none: the write lock, taken first, holds every item."""
    if session.get_bind().dialect.name != "postgresql":
        return list(items)
    keys = {lock_key(item): item for item in items}
    tried = text(
        "SELECT key, pg_try_advisory_xact_lock(key) AS held"
        " FROM unnest(CAST(:keys AS bigint[])) AS key ORDER BY key"
    )
    return [keys[key] for key, held in session.execute(tried, {"keys": sorted(keys)}) if held]


def close_together(
    factory: sessionmaker[Session],
    period: Period,
    due: Sequence[Item],
    now: datetime,
    *,
    finalize: bool = False,
) -> dict[Item, str]:
    """Draft, refresh or finalize every due contract's statement of a month in one
    transaction, set-based (see `statements.refresh_drafts`); return what happened to each.

    Raises if any contract fails: nothing is written then, and each is closed on its own.
    """
    with writing(factory) as session:
        held = _lock_together(session, due)
        outcomes = {item: "busy" for item in due if item not in held}
        contracts = session.scalars(
            select(Contract)
            .where(Contract.id.in_([item.contract_id for item in held]))
            .order_by(Contract.id)
            .options(selectinload(Contract.terms_versions))
        ).all()
        drafted = statements.refresh_drafts(session, contracts, period, now)
        for contract in contracts:
            item, draft = Item(period, contract.id), drafted[contract.id]
            if draft is None:
                outcomes[item] = "already_final"
                continue
            waiting = draft.disputes.still_open
            outcomes[item] = _outcome(
                session, item, contract, now, finalize, draft.created, waiting
            )
            if outcomes[item] == "finalized":
                statements.freeze(session, OPERATOR, draft.statement, draft.disputes, now)
        session.flush()
    return outcomes


def close_item(
    factory: sessionmaker[Session],
    item: Item,
    now: datetime,
    *,
    finalize: bool = False,
) -> str:
    """Draft, refresh or finalize one contract's period in one transaction; return what happened.

    The close's way when its set-based pass failed: one bad contract cannot stop the others.
    """
    with _holding(factory, item) as session:
        if session is None:
            return "busy"
        contract = session.get_one(Contract, item.contract_id)
        try:
            statement, created = statements.refresh_draft(
                session=session,
                actor=OPERATOR,
                contract_id=contract.id,
                period=item.period,
                now=now,
            )
        except Conflict:
            return "already_final"  # finalized since the due work was listed
        outcome = _outcome(session, item, contract, now, finalize, created)
        if outcome == "finalized":
            statements.finalize(session=session, actor=OPERATOR, statement_id=statement.id, now=now)
        return outcome


def _outcome(
    session: Session,
    item: Item,
    contract: Contract,
    now: datetime,
    finalize: bool,
    created: bool,
    waiting: Sequence[int] | None = None,
) -> str:
    """Say what the close does with an item's fresh draft: finalize it (now due, or asked),
    hold it (a dispute of the month waits for its decision), or leave it drafted/refreshed."""
    if finalize or finalize_due(session, contract, item.period, now, waiting):
        return "finalized"
    if dispute_window_closed(contract, item.period, now):
        return "held"
    return "drafted" if created else "refreshed"


def commit_item(factory: sessionmaker[Session], item: Item, now: datetime) -> str:
    """Commit the seeds of a contract's next (or running) month, once, under the close's lock."""
    with _holding(factory, item) as session:
        if session is None:
            return "busy"
        contract = session.get_one(Contract, item.contract_id)
        if samples.sample_of(session, contract.id, item.period) is not None:
            return "committed_before"
        if samples.commit_seed(session, contract, item.period, now) is None:
            return "not_sampled"
        return "committed"


def _samples(session: Session, item: Item) -> bool:
    contract = session.get_one(Contract, item.contract_id)
    return terms_for_period(contract, item.period).terms.sampling is not None


def months_to_commit(session: Session, now: datetime) -> list[Item]:
    """List the months whose seeds the close commits now, for every contract that runs them.

    The month after the running one, when its terms draw two-stage samples: its commitments
    are published before it begins (DESIGN 13). And the running month itself, which is late
    if it has none yet (the scheduler was down, or terms came too late); the retired
    per-agent scheme committed a month only as it began, and still does.
    """
    items = []
    everyone = select(Contract).order_by(Contract.id).options(selectinload(Contract.terms_versions))
    for contract in session.scalars(everyone):
        current = last_ended_period(contract, now).next()
        first = Period.of(contract.terms_versions[0].effective_from)
        last = None if contract.ends_on is None else Period.of(contract.ends_on)
        for month in (current, current.next()):
            if month < first or (last is not None and month > last):
                continue
            rule = terms_for_period(contract, month).terms.sampling
            if rule is not None and (month == current or rule.stages is not None):
                items.append(Item(month, contract.id))
    return items


def run_close(
    factory: sessionmaker[Session],
    now: datetime | None = None,
    *,
    period: Period | None = None,
    contract_id: int | None = None,
    finalize: bool = False,
    on_item: Callable[[Item, str], None] | None = None,
) -> JobRun:
    """Close every due item, record the run, and let one failing item not stop the others.

    The run holds a lease on this process, renewed while it lasts (see `leased`).
    """
    now = now or utcnow()
    with writing(factory) as session:
        run = JobRun(job=CLOSE, started_at=utcnow(), outcome="running", counts={})
        run.host, run.pid, run.lease_until = this_host(), os.getpid(), utcnow() + LEASE
        session.add(run)
        session.flush()
        run_id = run.id
        made = ensure_partitions(session, months_ahead(Period.of(now.date())))
        # Every contract with its terms, read once: the listings below find them in the session.
        contracts = session.scalars(
            select(Contract).options(selectinload(Contract.terms_versions))
        ).all()
        items = due_items(session, now, period=period, contract_id=contract_id)
        sampled = [item for item in items if _samples(session, item)]
        running = [] if period is not None else months_to_commit(session, now)
        running = [item for item in running if contract_id in (None, item.contract_id)]
        del contracts
    report = CloseReport()
    if made:
        report.counts["partitions"] = len(made)
    with leased(factory, run_id):
        _close_items(factory, report, (running, sampled, items), now, finalize, on_item)
        _make_missing_files(factory, report, period, contract_id)
    with writing(factory) as session:
        run = session.get_one(JobRun, run_id)
        run.finished_at = utcnow()
        run.outcome = report.outcome
        run.counts = dict(report.counts) | {"items": len(items)}
        run.error = "\n".join(report.failures) or None
    log.info("close run %s: %s %s", run_id, report.outcome, dict(report.counts))
    return run


def _close_items(
    factory: sessionmaker[Session],
    report: CloseReport,
    work: tuple[list[Item], list[Item], list[Item]],
    now: datetime,
    finalize: bool,
    on_item: Callable[[Item, str], None] | None,
) -> None:
    """Commit the running months' seeds, draw the closed logs' samples, close the due months."""
    running, sampled, items = work
    for item in running:
        # The next month's seeds, and the running month's if it has none; only new ones count.
        commit = partial(commit_item, factory, item, now)
        outcome = _attempt(report, item, commit, "committed_before")
        if outcome in ("committed", "failed"):
            report.counts[outcome] += 1
    for item in sampled:
        # The samples before the statements: the first run after a log closes draws them,
        # and the drafts below count what they say.
        outcome = _attempt(report, item, partial(draw_item, factory, item, now), "drawn_before")
        if outcome in ("drawn", "committed", "failed"):
            report.counts[outcome] += 1
    for month, group in groupby(items, key=lambda item: item.period):
        due = list(group)
        try:
            outcomes = close_together(factory, month, due, now, finalize=finalize)
        except Exception:
            log.exception("closing %s set-based failed; closing each contract on its own", month)
            outcomes = {}
        for item in due:
            if item in outcomes:
                outcome = outcomes[item]
            else:
                close = partial(close_item, factory, item, now, finalize=finalize)
                outcome = _attempt(report, item, close, "already_final")
            report.counts[outcome] += 1
            log.info("close: contract %s %s %s", item.contract_id, item.period, outcome)
            if on_item is not None:
                on_item(item, outcome)


def _make_missing_files(
    factory: sessionmaker[Session],
    report: CloseReport,
    period: Period | None,
    contract_id: int | None,
) -> None:
    """Make the files of every final statement that has none: those finalized above, now that
    their transactions committed and their locks are released, and any whose process stopped
    between its commit and its files (so no final statement stays without them)."""
    with factory() as session:
        due = reports.unreported(session, period=period, contract_id=contract_id)
    for statement_id, contract, month in due:
        item = Item(month, contract)
        store = partial(_store_files, factory, statement_id)
        if _attempt(report, item, store, "stored") == "failed":
            report.counts["failed"] += 1


def _store_files(factory: sessionmaker[Session], statement_id: int) -> str:
    made = reports.store_reports(factory, statement_id)
    log.info("close: statement %s: %s report files stored", statement_id, len(made))
    return "stored"


def _attempt(report: CloseReport, item: Item, action: Callable[[], str], done: str) -> str:
    """Run one item's work; a clash means another process did it (`done`), a failure is kept.

    One failing contract must not stop the others.
    """
    try:
        return action()
    except IntegrityError:
        return done  # another process wrote it first: the work is done
    except Exception as error:
        log.exception("close of contract %s for %s failed", item.contract_id, item.period)
        summary = "".join(traceback.format_exception_only(error)).strip()
        report.failures.append(f"contract {item.contract_id} {item.period}: {summary}")
        return "failed"


# A run's lease: renewed every minute by a thread of the run's own process, so it runs out
# only when the process is gone (or frozen) for five minutes, whatever one statement takes.
LEASE = timedelta(minutes=5)
RENEW_EVERY = 60.0  # seconds
ABANDONED = "abandoned"


def this_host() -> str:
    """Return the name of the machine (or container) this process runs on."""
    return socket.gethostname()


@contextmanager
def leased(factory: sessionmaker[Session], run_id: int) -> Iterator[None]:
    """Keep renewing a run's lease from a thread of its own until the block ends."""
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(RENEW_EVERY):
            try:
                renew_lease(factory, run_id)
            except Exception:  # the database is away: the next beat tries again
                log.exception("renewing the lease of run %s failed", run_id)

    keeper = threading.Thread(target=keep, name=f"lease of run {run_id}", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join()


def renew_lease(factory: sessionmaker[Session], run_id: int) -> None:
    """Extend a running run's lease by LEASE from now."""
    with writing(factory) as session:
        session.execute(
            update(JobRun)
            .where(JobRun.id == run_id, JobRun.outcome == "running")
            .values(lease_until=utcnow() + LEASE)
        )


def abandon_dead_runs(
    factory: sessionmaker[Session], now: datetime | None = None, *, starting: bool = False
) -> list[int]:
    """Mark abandoned, with when it was noticed, every running run whose process died.

    Dead: its lease ran out (a run from before leases: a lease after it began), or it ran on
    this host in a process that no longer exists. A scheduler `starting` has no run yet, so a
    run in a process with its own id (a container restarted as pid 1) is a dead one's too.
    """
    now = now or utcnow()
    with factory() as session:
        if not any(_why_dead(run, now, starting) for run in session.scalars(_running())):
            return []
    with writing(factory) as session:
        dead = []
        for run in session.scalars(_running()):
            why = _why_dead(run, now, starting)
            if why is not None:
                run.outcome, run.abandoned_at, run.error = ABANDONED, now, f"abandoned: {why}"
                dead.append(run.id)
                log.warning("job run %s (%s) abandoned: %s", run.id, run.job, why)
    return dead


def _running() -> Select[JobRun]:
    return select(JobRun).where(JobRun.outcome == "running").order_by(JobRun.id)


def _why_dead(run: JobRun, now: datetime, starting: bool) -> str | None:
    """Say why a running run's process must be dead, or None while it may be alive."""
    lease_until = run.lease_until or run.started_at + LEASE
    if lease_until < now:
        return f"its lease ran out at {lease_until.isoformat()}"
    if run.host != this_host() or run.pid is None:
        return None
    if run.pid == os.getpid():
        return "its process on this host was restarted" if starting else None
    if not _process_exists(run.pid):
        return f"its process {run.pid} on this host is gone"
    return None


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def record_run(factory: sessionmaker[Session], job: str, counts: dict[str, int]) -> None:
    """Record a finished run of a small job."""
    with writing(factory) as session:
        now = utcnow()
        session.add(
            JobRun(job=job, started_at=now, finished_at=now, outcome="success", counts=counts)
        )


def list_runs(*, session: Session, actor: Actor, job: str | None = None) -> list[JobRun]:
    """List the latest job runs, newest first (admins only)."""
    actor.require("admin")
    query = select(JobRun).order_by(JobRun.id.desc()).limit(200)
    if job is not None:
        query = query.where(JobRun.job == job)
    return list(session.scalars(query))
