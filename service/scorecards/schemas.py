"""HTTP shapes of scorecards."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from service.disputes.schemas import DisputeFiguresOut
from service.edge.schemas import PeriodField
from service.figures.schemas import FiguresOut, SampleFiguresOut, SelfAssessmentOut
from service.surveys.schemas import service_object


class ScorecardOut(FiguresOut):
    contract_id = fields.Integer(required=True, attribute="contract.id")
    contract_name = fields.String(required=True, attribute="contract.name")
    supplier_id = fields.Integer(required=True, attribute="contract.supplier_id")
    supplier_name = fields.String(required=True, attribute="contract.supplier.name")
    period = PeriodField(required=True)
    self_assessment = fields.Nested(SelfAssessmentOut, required=True)
    volume = fields.Method("_volume", required=True, metadata={"type": "object"})
    disputes = fields.Nested(DisputeFiguresOut, required=True)
    sampling = fields.Nested(
        SampleFiguresOut,
        required=True,
        allow_none=True,
        metadata={"description": "the month's samples of the call log, when the terms sample"},
    )
    unlogged = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "evaluations left out because their call is not in the log"},
    )
    calibration = fields.Method(
        "_calibration",
        required=True,
        allow_none=True,
        metadata={
            "type": "object",
            "nullable": True,
            "description": "whether the month's quality may move money (DESIGN 17): "
            "{session_id, closed_at, alpha, ci, qualifies, reason}; null when the terms ask "
            "for no calibration",
        },
    )

    service = fields.Function(
        lambda card: None if card.service is None else service_object(card.service),
        required=True,
        allow_none=True,
        metadata={
            "type": "object",
            "nullable": True,
            "description": "the month's service levels (DESIGN 16): offered {log, client, "
            "reconciled}, service_level, abandoned and repeat_contacts {value, numerator, "
            "denominator}, answer_speed {value, answered}, csat {value, responses, ci}, "
            "resolved {value, responses}; each present when the month has data for it; "
            "shares as 4-place decimal strings, seconds with 1 place",
        },
    )

    def _volume(self, card: Any) -> dict[str, Any]:
        return {"units": card.units}

    def _calibration(self, card: Any) -> dict[str, Any] | None:
        standing = card.calibration
        if standing is None:
            return None
        basis = standing.basis()
        keys = ("session_id", "closed_at", "alpha", "ci", "qualifies", "reason")
        return {key: basis[key] for key in keys}


class GroupOut(FiguresOut):
    agent_ref = fields.String(allow_none=True)
    team = fields.String(allow_none=True)


class AgentScorecardsOut(Schema):
    contract_id = fields.Integer(required=True, attribute="contract.id")
    period = PeriodField(required=True)
    self_assessment = fields.Nested(SelfAssessmentOut, required=True)
    agents = fields.List(
        fields.Nested(GroupOut),
        required=True,
        metadata={
            "description": "per agent, as the reader may see them (DESIGN 18): the client "
            "side reads pseudonyms, or none where the terms show it teams only"
        },
    )
    teams = fields.List(
        fields.Nested(GroupOut),
        required=True,
        metadata={
            "description": "per team; where the client side sees teams only, a team of "
            'fewer than privacy.min_group agents is merged into "other"'
        },
    )
    agents_hidden = fields.Boolean(
        required=True, metadata={"description": "the reader sees teams only"}
    )


class TrendQuery(Schema):
    from_ = PeriodField(required=True, data_key="from")
    to = PeriodField(required=True)
