"""The evaluation list: filtered, a page at a time (one evaluation's page is in `disputes`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template, request

from service.agreements.service import list_contracts
from service.db import get_session
from service.evaluations.models import SOURCES
from service.evaluations.service import evaluations_page
from service.schemas import MAX_ID
from service.web.query import PAGE_SIZE, chosen_period, given_number, page_number
from service.web.session import page

blp = Blueprint("evaluation_pages", __name__)


def _filters() -> dict[str, Any]:
    """Read the list's filters from the query string, leaving out what is not given."""
    filters: dict[str, Any] = {}
    contract_id = given_number("contract_id", MAX_ID, "a contract")
    if contract_id is not None:
        filters["contract_id"] = contract_id
    if request.args.get("period"):
        filters["period"] = chosen_period()
    if request.args.get("agent_ref"):
        filters["agent_ref"] = request.args["agent_ref"].strip()
    if request.args.get("source") in SOURCES:
        filters["source"] = request.args["source"]
    return filters


@blp.get("/evaluations")
@page
def evaluations() -> Any:
    """List evaluations, filtered by contract, month, agent and source, a page at a time."""
    db, filters = get_session(), _filters()
    shown = evaluations_page(
        session=db, actor=g.actor, number=page_number(), size=PAGE_SIZE, **filters
    )
    return render_template(
        "evaluations/evaluations.html",
        contracts=list_contracts(session=db, actor=g.actor),
        rows=shown.rows,
        total=shown.total,
        page=shown.number,
        pages=shown.pages,
        filters=filters,
        sources=SOURCES,
    )
