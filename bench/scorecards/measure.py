"""Measuring the scorecards: answers checked, SQL counted in process, latency under wrk."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any

import requests

from bench.common import BenchError, other_bench_pids, other_benchmarks, wait_for_quiet
from bench.record import Figure, load_average
from bench.scorecards.writer import Writes
from bench.scorecards.wrk import Latency, run_wrk, wrk_output
from bench.statements.explain import capturing
from bench.statements.measure import Month, expected_counts
from service.database.engine import make_engine

OTHER_BENCHES = other_benchmarks("scorecards")  # measured alone: wait while one runs
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One URL under load, and the headers that sign its requests in."""

    name: str
    path: str
    headers: dict[str, str]


def endpoints(month: Month, token: str, cookie: str) -> list[Endpoint]:
    """Return the suppliers page (signed in by cookie) and the API (by bearer token)."""
    period = month.period
    return [
        Endpoint("suppliers page", f"/scorecards?period={period}", {"Cookie": cookie}),
        Endpoint(
            "GET /api/v1/scorecards",
            f"/api/v1/scorecards?period={period}",
            {"Authorization": f"Bearer {token}"},
        ),
    ]


def csrf_token(page: str) -> str:
    """Return the CSRF token of the sign-in form."""
    found = CSRF.search(page)
    if found is None:
        raise BenchError("the sign-in page has no CSRF token")
    return found.group(1)


def sign_in(base: str, token: str) -> str:
    """Sign in to the pages with the client's token; return the session's Cookie header."""
    with requests.Session() as browser:
        form = browser.get(f"{base}/sign-in", timeout=30)
        answer = browser.post(
            f"{base}/sign-in",
            data={"csrf_token": csrf_token(form.text), "token": token},
            allow_redirects=False,
            timeout=30,
        )
        if answer.status_code != 302:
            raise BenchError(f"sign-in answered {answer.status_code}: {answer.text[:500]}")
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in browser.cookies)


def check(base: str, url: str, month: Month, found: Sequence[Endpoint]) -> None:
    """Check the page lists every contract and the API counts each one's calls and pairs."""
    expected = expected_counts_of(url, month)
    page, api = found
    answer = requests.get(
        f"{base}{page.path}", headers=page.headers, allow_redirects=False, timeout=600
    )
    if answer.status_code != 200:
        raise BenchError(f"the suppliers page answered {answer.status_code}")
    listed = set(re.findall(r"Customer care \d+", answer.text))
    if len(listed) != len(expected):
        raise BenchError(f"the page lists {len(listed)} contracts of {len(expected)}")
    cards = requests.get(f"{base}{api.path}", headers=api.headers, timeout=600)
    if cards.status_code != 200:
        raise BenchError(f"GET /api/v1/scorecards answered {cards.status_code}")
    counted = {
        card["contract_id"]: (card["n"], card["self_assessment"]["pairs"]) for card in cards.json()
    }
    if counted != expected:
        raise BenchError(f"the API's (n, pairs) per contract {counted} differ from {expected}")


def expected_counts_of(url: str, month: Month) -> dict[int, tuple[int, int]]:
    """Return each contract's counted calls and pairs of the month, straight from SQL."""
    engine = make_engine(url)
    try:
        return expected_counts(engine, month.period)
    finally:
        engine.dispose()


def sql_per_request(url: str, token: str, found: Sequence[Endpoint]) -> dict[str, int]:
    """Count the SQL statements one request of each endpoint sends, in process."""
    from service import create_app

    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    engine = app.extensions["fiducia.engine"]
    counts = {}
    try:
        client = app.test_client()
        form = client.get("/sign-in").get_data(as_text=True)
        client.post("/sign-in", data={"csrf_token": csrf_token(form), "token": token})
        for endpoint in found:
            headers: dict[str, Any] = {
                name: value for name, value in endpoint.headers.items() if name != "Cookie"
            }
            client.get(endpoint.path, headers=headers)  # warm: the first request loads more
            with capturing(engine) as captured:
                answer = client.get(endpoint.path, headers=headers)
            if answer.status_code != 200:
                raise BenchError(f"{endpoint.name} answered {answer.status_code} in process")
            counts[endpoint.name] = captured.statements
    finally:
        engine.dispose()
    return counts


@dataclass(frozen=True, slots=True)
class Loaded:
    """The latency of each endpoint at each number of connections."""

    runs: list[tuple[Endpoint, Latency]]
    waited_seconds: float
    still_busy: bool
    load: Figure  # the machine's load average as the last run ended


def load(
    base: str,
    found: Sequence[Endpoint],
    levels: Sequence[int],
    seconds: int,
    warm_up: int,
    wait: bool,
    writes: Callable[[], AbstractContextManager[Writes]],
) -> Loaded:
    """Run wrk on each endpoint at each level (after a warm-up that is not measured), then
    at the most connections again while `writes` posts batches."""
    waited, still_busy = wait_for_quiet(OTHER_BENCHES) if wait else (0.0, False)
    runs = []
    for endpoint in found:
        if warm_up > 0:  # not read: wrk drops what is in flight when its time is up
            wrk_output(f"{base}{endpoint.path}", endpoint.headers, max(levels), warm_up)
        for connections in levels:
            latency = run_wrk(f"{base}{endpoint.path}", endpoint.headers, connections, seconds)
            print(
                f"  {endpoint.name}, {connections} connections: {latency.requests} requests "
                f"in {latency.seconds:.1f} s, p50 {latency.p50:.0f} ms, "
                f"p95 {latency.p95:.0f} ms",
                flush=True,
            )
            runs.append((endpoint, latency))
        with writes() as written:
            latency = run_wrk(f"{base}{endpoint.path}", endpoint.headers, max(levels), seconds)
        print(
            f"  {endpoint.name}, {max(levels)} connections, {written.batches} batches written:"
            f" {latency.requests} requests, p50 {latency.p50:.0f} ms, p95 {latency.p95:.0f} ms",
            flush=True,
        )
        runs.append((replace(endpoint, name=f"{endpoint.name} under writes"), latency))
    still_busy = still_busy or bool(wait and other_bench_pids(OTHER_BENCHES))
    return Loaded(runs, waited, still_busy, load_average())
