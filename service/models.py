"""Import every domain's models so the metadata is complete (for Alembic and tests)."""

from service.accounts.models import ApiToken, Organization, SignInAttempt, User, WebSession
from service.agreements.models import Contract, TermsVersion
from service.calls.models import Call, CallSample, SampledCall
from service.db import Base
from service.disputes.models import Dispute, DisputeItem, DisputeStep
from service.evaluations.models import Evaluation, EvaluationRevision
from service.forms.models import Form
from service.jobs.models import JobRun
from service.notices.models import WebhookDelivery
from service.statements.models import ReportFile, Statement
from service.volumes.models import DailyVolume, VolumeChange

__all__ = [
    "ApiToken",
    "Base",
    "Call",
    "CallSample",
    "Contract",
    "DailyVolume",
    "Dispute",
    "DisputeItem",
    "DisputeStep",
    "Evaluation",
    "EvaluationRevision",
    "Form",
    "JobRun",
    "Organization",
    "ReportFile",
    "SampledCall",
    "SignInAttempt",
    "Statement",
    "TermsVersion",
    "User",
    "VolumeChange",
    "WebSession",
    "WebhookDelivery",
]
