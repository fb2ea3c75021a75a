"""HTTP shapes of the call log and its samples."""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from service.calls.ingest import MAX_BATCH
from service.calls.models import DIRECTIONS, OUTCOMES
from service.calls.rows import MAX_DURATION_S, TEXT_LIMIT
from service.edge.schemas import CallRef, Instant, PeriodField
from service.privacy.policy import SeenAgent, SeenTeam

PURPOSES = ("audit", "self")


def _text(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(1, TEXT_LIMIT), **kwargs)


class CallIn(Schema):
    """One logged call (documentation: the service checks each call itself, by index)."""

    call_ref = CallRef(required=True)
    call_at = Instant(required=True)
    agent_ref = _text(
        allow_none=True,
        metadata={"description": "required for an answered call; none for an abandoned one"},
    )
    team = _text(allow_none=True)
    queue = _text(allow_none=True)
    direction = fields.String(allow_none=True, validate=validate.OneOf(DIRECTIONS))
    duration_s = fields.Integer(
        allow_none=True, strict=True, validate=validate.Range(0, MAX_DURATION_S)
    )
    outcome = fields.String(
        allow_none=True,
        validate=validate.OneOf(OUTCOMES),
        metadata={
            "description": "inbound: answered | abandoned; outbound: answered | no_answer | busy"
            " | failed; answered when left out"
        },
    )
    wait_s = fields.Integer(
        allow_none=True,
        strict=True,
        validate=validate.Range(0, MAX_DURATION_S),
        metadata={"description": "seconds in queue until answered or abandoned"},
    )
    handle_s = fields.Integer(
        allow_none=True, strict=True, validate=validate.Range(0, MAX_DURATION_S)
    )
    caller_ref = _text(
        allow_none=True,
        metadata={
            "description": "the caller as a pseudonym; more than 6 digits in a row is refused"
        },
    )


class CallsIn(Schema):
    calls = fields.List(
        fields.Nested(CallIn), required=True, validate=validate.Length(1, MAX_BATCH)
    )


class RawCallsIn(Schema):
    """What the batch endpoint reads first: each call is then checked on its own."""

    calls = fields.List(fields.Raw(), required=True, validate=validate.Length(1, MAX_BATCH))


class LoggedOut(Schema):
    created = fields.Integer(required=True, metadata={"description": "calls new to the log"})
    unchanged = fields.Integer(
        required=True, metadata={"description": "calls the log already held, the same"}
    )


class RejectedRowOut(Schema):
    row = fields.Integer(required=True, metadata={"description": "row number; the header is 1"})
    column = fields.String(required=True)
    message = fields.String(required=True)


class UploadedOut(LoggedOut):
    rejected = fields.List(
        fields.Nested(RejectedRowOut),
        required=True,
        metadata={"description": "empty when stored; a refused file lists its bad rows"},
    )


class CallsFileIn(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "CSV with a header row naming the columns (call_ref, call_at, "
            "agent_ref, team, queue, direction, duration_s, outcome, wait_s, handle_s, "
            "caller_ref); gzip accepted"
        },
    )


class CallQuery(Schema):
    period = PeriodField()
    agent_ref = _text()
    sampled = fields.String(validate=validate.OneOf(PURPOSES))


class CallOut(Schema):
    call_ref = fields.String(required=True)
    call_at = fields.AwareDateTime(required=True)
    period = fields.String(required=True, metadata={"description": "the contract's month"})
    agent_ref = SeenAgent(
        metadata={
            "description": "as the reader may see it (DESIGN 18): the client side reads "
            "a pseudonym, or null where the terms show it teams only; null for an abandoned call"
        }
    )
    team = SeenTeam()
    queue = fields.String(required=True, allow_none=True)
    direction = fields.String(required=True, allow_none=True)
    duration_s = fields.Integer(required=True, allow_none=True)
    outcome = fields.String(required=True)
    wait_s = fields.Integer(required=True, allow_none=True)
    handle_s = fields.Integer(required=True, allow_none=True)
    caller_ref = fields.String(required=True, allow_none=True)
    logged_at = fields.AwareDateTime(required=True)
    sampled = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "the samples the call was drawn into: audit, self"},
    )


class DayCountOut(Schema):
    date = fields.Date(required=True)
    calls = fields.Integer(required=True)


class AgentCountOut(Schema):
    agent_ref = fields.String(required=True)
    calls = fields.Integer(required=True)


class SummaryOut(Schema):
    contract_id = fields.Integer(required=True)
    period = PeriodField(required=True)
    calls = fields.Integer(required=True)
    per_day = fields.List(
        fields.Nested(DayCountOut),
        required=True,
        metadata={"description": "days in the contract's time zone"},
    )
    per_agent = fields.List(fields.Nested(AgentCountOut), required=True)
    per_direction = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "inbound, outbound, unknown"},
    )
    log_closes_at = fields.AwareDateTime(required=True)


class ExportQuery(Schema):
    period = PeriodField(required=True)


class SampledCallOut(Schema):
    call_ref = fields.String(required=True)
    rank_key = fields.String(
        required=True,
        metadata={"description": 'hmac_sha256(seed, "purpose:call_ref"), lowercase hex'},
    )


class ShareOut(Schema):
    sampled = fields.Integer(required=True)
    evaluated = fields.Integer(
        required=True, metadata={"description": "by the side that owes it, by its due date"}
    )
    rate = fields.Decimal(as_string=True, required=True, allow_none=True)


class PairOut(Schema):
    """One value per sample: the self sample's and the audit sample's."""

    self = fields.String(required=True, allow_none=True)
    audit = fields.String(required=True, allow_none=True)


class CoverageOut(Schema):
    self = fields.Nested(ShareOut, required=True)
    audit = fields.Nested(ShareOut, required=True)


class SampleOut(Schema):
    """A month's samples: both commitments as soon as they exist, each seed and its sample
    once drawn (the self sample when the log closes, the audit sample out of it when the
    self-assessments are due), each call with its rank key, ascending."""

    contract_id = fields.Integer(required=True)
    period = PeriodField(required=True)
    scheme = fields.Integer(
        required=True,
        metadata={"description": "2: two stages; 1: per agent, one seed (months drawn so)"},
    )
    commitments = fields.Nested(
        PairOut, required=True, metadata={"description": "sha256 of each seed, lowercase hex"}
    )
    committed_at = fields.AwareDateTime(required=True)
    late = fields.Boolean(
        required=True, metadata={"description": "committed only after the month began"}
    )
    seeds = fields.Nested(
        PairOut,
        required=True,
        metadata={"description": "32 bytes in lowercase hex, each null until its sample is drawn"},
    )
    log_closes_at = fields.AwareDateTime(required=True)
    self_due = fields.AwareDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "self-assessments due; the audit sample is drawn then"},
    )
    audit_due = fields.AwareDateTime(required=True, allow_none=True)
    drawn_at = fields.AwareDateTime(required=True, allow_none=True)
    audit_drawn_at = fields.AwareDateTime(required=True, allow_none=True)
    sizes = fields.Dict(required=True, allow_none=True)
    logged_calls = fields.Integer(required=True, allow_none=True)
    self = fields.List(fields.Nested(SampledCallOut), required=True, attribute="self_assessment")
    audit = fields.List(fields.Nested(SampledCallOut), required=True)
    coverage = fields.Nested(CoverageOut, required=True)


class VerificationOut(Schema):
    contract_id = fields.Integer(required=True)
    period = PeriodField(required=True)
    matches = fields.Boolean(required=True)
    commitment_matches = fields.Boolean(
        required=True, metadata={"description": "sha256(seed) equals the published commitment"}
    )
    samples_match = fields.Boolean(
        required=True, metadata={"description": "the draw recomputed from the log is the stored"}
    )
    logged_calls = fields.Integer(required=True)
    differences = fields.Dict(required=True)


class UploadQuery(Schema):
    format = fields.String(
        load_default=None,
        validate=validate.OneOf(("asterisk", "vicidial", "connect", "twilio")),
        metadata={"description": "the telephony's own export (DESIGN §19); none: the native CSV"},
    )
    dry_run = fields.Boolean(
        load_default=False,
        metadata={"description": "say how the first 20 rows map and every bad row; write nothing"},
    )


class MappedRowOut(Schema):
    row = fields.Integer(required=True)
    call_ref = fields.String()
    call_at = fields.String()
    agent_ref = fields.String()
    team = fields.String()
    queue = fields.String()
    direction = fields.String()
    duration_s = fields.String()
    outcome = fields.String()
    wait_s = fields.String()
    handle_s = fields.String()
    caller_ref = fields.String()


class DryRunOut(Schema):
    rows = fields.Integer(required=True, metadata={"description": "records read"})
    good = fields.Integer(required=True, metadata={"description": "records that would be logged"})
    bad = fields.Integer(required=True)
    mapped = fields.List(
        fields.Nested(MappedRowOut),
        required=True,
        metadata={"description": "the first 20 good records as the log's fields"},
    )
    rejected = fields.List(fields.Nested(RejectedRowOut), required=True)
