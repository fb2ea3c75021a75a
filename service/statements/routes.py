"""Payout statements, their exports, a month's payouts and simulations of draft terms."""

from functools import partial
from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from service.edge.actors import current_actor
from service.edge.downloads import attachment
from service.edge.errors import NotFound
from service.edge.schemas import DOCUMENT_LENGTH, body_limit
from service.edge.sessions import after_commit, get_session, writes_once_read
from service.statements import exports, reports, service
from service.statements.schemas import (
    BundleQuery,
    DraftIn,
    ExportQuery,
    HashCheckOut,
    PayoutQuery,
    PayoutRow,
    ReportOut,
    SimulationIn,
    SimulationOut,
    StatementOut,
    StatementQuery,
)

blp = Blueprint("statements", __name__, description="Payout statements (DESIGN §6-7)")


@blp.route("/contracts/<id:contract_id>/statements")
class ContractStatements(MethodView):
    @blp.arguments(DraftIn)
    @blp.response(201, StatementOut)
    @blp.alt_response(200, schema=StatementOut, description="The draft was recomputed")
    def post(self, body: dict[str, Any], contract_id: int) -> Any:
        """Compute (or recompute) the draft statement of an ended period."""
        statement, created = service.refresh_draft(
            session=get_session(), actor=current_actor(), contract_id=contract_id, **body
        )
        return statement, 201 if created else 200


@blp.route("/contracts/<id:contract_id>/simulate")
class Simulate(MethodView):
    @body_limit(DOCUMENT_LENGTH)
    @blp.arguments(SimulationIn)
    @blp.response(200, SimulationOut(many=True))
    @writes_once_read
    def post(self, body: dict[str, Any], contract_id: int) -> Any:
        """Say what draft terms would have paid on the recorded data; nothing is stored."""
        return service.simulate(
            session=get_session(), actor=current_actor(), contract_id=contract_id, **body
        )


@blp.route("/statements")
class Statements(MethodView):
    @blp.arguments(StatementQuery, location="query")
    @blp.response(200, StatementOut(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """List statements, filtered by period, contract and status."""
        return service.list_statements(session=get_session(), actor=current_actor(), **query)


@blp.route("/statements/<id:statement_id>")
class StatementDetail(MethodView):
    @blp.response(200, StatementOut)
    def get(self, statement_id: int) -> Any:
        """Return a statement with its lines and their basis."""
        return service.get_statement(
            session=get_session(), actor=current_actor(), statement_id=statement_id
        )


@blp.route("/statements/<id:statement_id>/verify")
class Verify(MethodView):
    @blp.response(200, HashCheckOut)
    def get(self, statement_id: int) -> Any:
        """Recompute a statement's content hash from its stored content; say if it matches."""
        return service.verify_statement(
            session=get_session(), actor=current_actor(), statement_id=statement_id
        )


@blp.route("/statements/<id:statement_id>/finalize")
class Finalize(MethodView):
    @blp.response(200, StatementOut)
    def post(self, statement_id: int) -> Any:
        """Freeze a draft for good (finance or admin); finalizing twice is a 409."""
        statement = service.finalize(
            session=get_session(), actor=current_actor(), statement_id=statement_id
        )
        after_commit(partial(reports.store_reports, statement_id=statement.id))
        return statement


@blp.route("/statements/<id:statement_id>/export")
class Export(MethodView):
    @blp.arguments(ExportQuery, location="query")
    @blp.response(200, description="The statement as a CSV or XLSX file")
    def get(self, query: dict[str, Any], statement_id: int) -> Any:
        """Download a statement as CSV or XLSX."""
        session = get_session()
        statement = service.get_statement(
            session=session, actor=current_actor(), statement_id=statement_id
        )
        file = reports.statement_file(session, statement, query["format"])
        return attachment(file.content, file.name)


@blp.route("/payouts")
class Payouts(MethodView):
    @blp.arguments(PayoutQuery, location="query")
    @blp.response(200, PayoutRow(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Return every statement of a month, one row per contract (JSON, CSV or XLSX)."""
        session = get_session()
        statements = service.list_statements(
            session=session, actor=current_actor(), period=query["period"]
        )
        if query["format"] == "json":
            return exports.payout_rows(statements)
        language = reports.organization_language(session, current_actor().organization_id)
        file = reports.payouts_file(session, query["period"], statements, query["format"], language)
        return attachment(file.content, file.name)


@blp.route("/statements/<id:statement_id>/reports")
class Reports(MethodView):
    @blp.response(200, ReportOut(many=True))
    def get(self, statement_id: int) -> Any:
        """List the report files made when the statement was finalized."""
        session = get_session()
        statement = service.get_statement(
            session=session, actor=current_actor(), statement_id=statement_id
        )
        return [
            {
                "name": name,
                "format": format_,
                "url": url_for("statements.ReportFile", statement_id=statement.id, format=format_),
            }
            for format_, name in reports.report_names(session, statement)
        ]


@blp.route("/statements/<id:statement_id>/reports/<string:format>")
class ReportFile(MethodView):
    @blp.response(200, description="The report file")
    def get(self, statement_id: int, format: str) -> Any:
        """Download one report file of a final statement."""
        session = get_session()
        statement = service.get_statement(
            session=session, actor=current_actor(), statement_id=statement_id
        )
        if statement.is_final and format in reports.FORMATS:
            file = reports.statement_file(session, statement, format)
            return attachment(file.content, file.name)
        raise NotFound(f"statement {statement.id} has no {format} report")


@blp.route("/payouts/bundle")
class PayoutBundle(MethodView):
    @blp.arguments(BundleQuery, location="query")
    @blp.response(200, description="A zip of the month's payouts and every final statement's files")
    def get(self, query: dict[str, Any]) -> Any:
        """Download a month's payout bundle: payouts as CSV and XLSX, and each report file."""
        session = get_session()
        statements = service.list_statements(
            session=session, actor=current_actor(), period=query["period"]
        )
        language = reports.organization_language(session, current_actor().organization_id)
        file = reports.payouts_file(session, query["period"], statements, "zip", language)
        return attachment(file.content, file.name)
