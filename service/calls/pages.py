"""The call log's pages: a contract's calls with their samples, and each side's to-do list."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, g, render_template, request
from flask_babel import lazy_gettext as _l

from service.accounts.web_sessions import page
from service.agreements.service import get_contract, terms_for_period
from service.calls import samples
from service.calls.reads import calls_page
from service.edge.sessions import get_session
from service.privacy.policy import Lens
from service.web.query import PAGE_SIZE, chosen_period, page_number

blp = Blueprint("call_pages", __name__)

SAMPLED_AS = {"audit": _l("sampled for audit"), "self": _l("sampled for self-assessment")}
DIRECTIONS = {"inbound": _l("inbound"), "outbound": _l("outbound")}


def evaluation_link(call: Any, period: Any, zone: str) -> dict[str, Any]:
    """Return the query of the scoring page pre-filled with a call's reference, agent, time;
    for the client side without the agent, which its audit takes from the log (DESIGN 18)."""
    local = call.call_at.astimezone(ZoneInfo(zone))
    link = {
        "contract_id": call.contract_id,
        "period": str(period),
        "call_ref": call.call_ref,
        "call_at": local.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    if Lens(g.actor).as_logged:
        link |= {"agent_ref": call.agent_ref, "team": call.team or ""}
    return link


@blp.get("/contracts/<id:contract_id>/calls")
@page
def calls(contract_id: int) -> Any:
    """List a month of a contract's call log, a page at a time, with the samples of each call."""
    period = chosen_period()
    sampled = request.args.get("sampled")
    sampled = sampled if sampled in SAMPLED_AS else None
    agent = request.args.get("agent_ref", "").strip()[:200] or None
    shown = calls_page(
        session=get_session(),
        actor=g.actor,
        contract_id=contract_id,
        number=page_number(),
        size=PAGE_SIZE,
        period=period,
        agent_ref=agent,
        sampled=sampled,
    )
    contract = get_contract(session=get_session(), actor=g.actor, contract_id=contract_id)
    terms = terms_for_period(contract, period)
    sample = None
    if terms.terms.sampling is not None:
        sample = samples.shown_sample(
            session=get_session(), actor=g.actor, contract_id=contract_id, period=period
        )
    return render_template(
        "calls/calls.html",
        contract=contract,
        period=period,
        zone=terms.timezone,
        terms=terms.terms,
        sample=sample,
        shown=shown,
        sampled=sampled,
        agent=agent,
        sampled_as=SAMPLED_AS,
        directions=DIRECTIONS,
        link=lambda call: evaluation_link(call, period, terms.timezone),
    )


@blp.get("/contracts/<id:contract_id>/to-do")
@page
def to_do(contract_id: int) -> Any:
    """List the sampled calls of the month that the caller's side has not evaluated yet."""
    period = chosen_period()
    todo = samples.to_do(
        session=get_session(), actor=g.actor, contract_id=contract_id, period=period
    )
    zone = terms_for_period(todo.contract, period).timezone
    return render_template(
        "calls/to_do.html",
        todo=todo,
        period=period,
        zone=zone,
        sampled_as=SAMPLED_AS,
        link=lambda call: evaluation_link(call, period, zone),
    )
