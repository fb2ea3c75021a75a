"""The call log of a contract, and the samples drawn from it."""

import json
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, jsonify, stream_with_context
from flask.views import MethodView

from contracts.periods import Period
from service.agreements.service import get_contract
from service.calls import ingest, profiles, reads, samples
from service.calls.profile_schemas import ProfileIn, ProfileOut
from service.calls.schemas import (
    CallOut,
    CallQuery,
    CallsFileIn,
    CallsIn,
    DryRunOut,
    ExportQuery,
    LoggedOut,
    RawCallsIn,
    SampleOut,
    SummaryOut,
    UploadedOut,
    UploadQuery,
    VerificationOut,
)
from service.database.engine import allow_long_statements
from service.edge.actors import current_actor
from service.edge.errors import Invalid
from service.edge.schemas import UPLOAD_LENGTH, Blueprint, PeriodQuery, body_limit
from service.edge.sessions import begin_writing, end_reading, get_session, reads_input_first
from service.privacy.policy import Lens

blp = Blueprint("calls", __name__, description="The call log and its samples (DESIGN §13)")


@blp.route("/contracts/<id:contract_id>/calls")
class Calls(MethodView):
    @blp.arguments(CallQuery, location="query")
    @blp.response(200, CallOut(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any], contract_id: int, pagination_parameters: Any) -> Any:
        """List a contract's logged calls in time order, with the samples each was drawn into."""
        page = reads.calls_page(
            session=get_session(),
            actor=current_actor(),
            contract_id=contract_id,
            number=pagination_parameters.page,
            size=pagination_parameters.page_size,
            **query,
        )
        pagination_parameters.item_count = page.total
        return page.rows

    @blp.arguments(RawCallsIn)
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": CallsIn}}})
    @blp.response(201, LoggedOut)
    @blp.alt_response(200, schema=LoggedOut, description="Every call was logged already")
    def post(self, body: dict[str, Any], contract_id: int) -> Any:
        """Log up to 10,000 calls, all or nothing; the same call again changes nothing."""
        logged = ingest.log_calls(
            session=get_session(),
            actor=current_actor(),
            contract_id=contract_id,
            calls=body["calls"],
        )
        return logged, 201 if logged.created else 200


@blp.route("/contracts/<id:contract_id>/calls/upload")
class CallsUpload(MethodView):
    @reads_input_first
    @body_limit(UPLOAD_LENGTH)
    @blp.arguments(UploadQuery, location="query")
    @blp.arguments(CallsFileIn, location="files")
    @blp.response(201, UploadedOut)
    @blp.alt_response(200, schema=UploadedOut, description="Every call was logged already")
    @blp.alt_response(200, schema=DryRunOut, description="A dry run: nothing was logged")
    def post(self, query: dict[str, Any], files: dict[str, Any], contract_id: int) -> Any:
        """Log a file of calls (gzip accepted, up to 5,000,000 rows), all or nothing: the
        native CSV, or with `format` the telephony's own export (DESIGN §19).

        The file is read and checked first, with no transaction open; only then is the
        contract's log locked and the calls stored.
        """
        session, actor = get_session(), current_actor()
        calendar = ingest.log_calendar(session=session, actor=actor, contract_id=contract_id)
        rows_of = profiles.rows_of(session, calendar.contract, query["format"])
        end_reading(session)
        limit = current_app.config["MAX_UPLOAD_LENGTH"]
        stream = files["file"].stream
        if query["dry_run"]:
            rows = rows_of(stream, calendar, keep=ingest.KEEP_PROBLEMS, max_bytes=limit)
            return jsonify(DryRunOut().dump(ingest.preview_calls_file(rows)))
        if query["format"] is None:  # the native CSV: COPYed raw, checked in SQL (PostgreSQL)
            begin_writing(session)
            # Millions of rows go into one COPY: the long budget, as the close has.
            allow_long_statements(session, current_app.config["DB_LONG_STATEMENT_TIMEOUT"])
            logged = ingest.log_raw_file(
                session=session, actor=actor, calendar=calendar, stream=stream, max_bytes=limit
            )
            if logged is not None:
                return logged, 201 if logged.created else 200
            end_reading(session)  # nothing was written: the slow way reads it, and says why
        read = ingest.read_calls_file(calendar, stream, limit, rows_of)
        with read.spool:
            begin_writing(session)
            # Millions of rows go into one COPY: the long budget, as the close has.
            allow_long_statements(session, current_app.config["DB_LONG_STATEMENT_TIMEOUT"])
            logged = ingest.log_calls_file(session=session, actor=actor, read=read)
        return logged, 201 if logged.created else 200


@blp.route("/contracts/<id:contract_id>/calls/summary")
class CallsSummary(MethodView):
    @blp.arguments(PeriodQuery, location="query")
    @blp.response(200, SummaryOut)
    def get(self, query: dict[str, Any], contract_id: int) -> Any:
        """Count a month of the log: in all, per day, per agent and per direction."""
        return reads.summary(
            session=get_session(), actor=current_actor(), contract_id=contract_id, **query
        )


@blp.route("/contracts/<id:contract_id>/calls/template")
class CallsTemplate(MethodView):
    @blp.response(200, description="CSV: the header and two example calls")
    def get(self, contract_id: int) -> Any:
        """Download the CSV template of the call log: every column, an answered and an
        abandoned inbound call as examples."""
        get_contract(session=get_session(), actor=current_actor(), contract_id=contract_id)
        return Response(
            reads.calls_template(),
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="calls-template.csv"'},
        )


@blp.route("/contracts/<id:contract_id>/calls/export")
class CallsExport(MethodView):
    @blp.arguments(ExportQuery, location="query")
    @blp.response(200, description="JSON lines: one call per line, as it was logged")
    def get(self, query: dict[str, Any], contract_id: int) -> Any:
        """Download a month of the log, one JSON object per line (times in UTC), for checking.

        JSON lines, not CSV: each value comes back exactly as logged (a spreadsheet would
        run a reference starting with "=" or "+"), so a sample can be re-derived from it.
        """
        session, actor = get_session(), current_actor()
        contract = get_contract(session=session, actor=actor, contract_id=contract_id)
        period: Period = query["period"]
        view = Lens(actor).view(contract, period)
        factory = current_app.extensions["fiducia.sessionmaker"]

        def lines() -> Iterator[str]:
            with factory() as reading:  # the request's own session is closed by now
                for call in reads.exported_calls(reading, contract.id, period, view):
                    yield json.dumps(call, ensure_ascii=False) + "\n"

        name = f"calls-{contract.id}-{period}.jsonl"
        return Response(
            stream_with_context(lines()),
            mimetype="application/x-ndjson",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as error:
        raise Invalid("not a month", {"period": [str(error)]}, location="path") from None


@blp.route("/contracts/<id:contract_id>/samples/<period>")
class Sample(MethodView):
    @blp.response(200, SampleOut)
    def get(self, contract_id: int, period: str) -> Any:
        """Return a month's two commitments; each seed and sample once drawn, and coverage."""
        return samples.read_sample(
            session=get_session(),
            actor=current_actor(),
            contract_id=contract_id,
            period=_period(period),
        )


@blp.route("/contracts/<id:contract_id>/samples/<period>/verify")
class SampleVerification(MethodView):
    @blp.response(200, VerificationOut)
    def get(self, contract_id: int, period: str) -> Any:
        """Recompute a month's draws from the stored log and seeds, by the scheme each was drawn
        under; say whether they match."""
        return samples.verify_sample(
            session=get_session(),
            actor=current_actor(),
            contract_id=contract_id,
            period=_period(period),
        )


@blp.route("/contracts/<id:contract_id>/import-profiles/<format>")
class ImportProfileView(MethodView):
    @blp.response(200, ProfileOut)
    def get(self, contract_id: int, format: str) -> Any:
        """Return how the contract's files of a format are read (empty: the defaults)."""
        return profiles.read_profile(
            session=get_session(), actor=current_actor(), contract_id=contract_id, name=format
        )

    @blp.arguments(ProfileIn)
    @blp.response(200, ProfileOut)
    def put(self, body: dict[str, Any], contract_id: int, format: str) -> Any:
        """Set how the contract's files of a format are read (the supplier or an admin)."""
        return profiles.put_profile(
            session=get_session(),
            actor=current_actor(),
            contract_id=contract_id,
            name=format,
            body=body,
        )
