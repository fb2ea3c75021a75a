"""The words pages show for the service's codes: statuses, roles, sources, outcomes.

The codes stay English in the API and the database; a page says them in its reader's language
through `code|label`. A code with no label is shown as it is.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext

from service.language.i18n import N_

LABELS: dict[str, str] = {
    # statements
    "draft": N_("draft"),
    "final": N_("final"),
    # lines of a statement
    "volume": N_("volume"),
    "quality_band": N_("quality band"),
    "critical_customer": N_("customer critical errors"),
    "critical_business": N_("business critical errors"),
    "critical_compliance": N_("compliance critical errors"),
    "cap": N_("cap"),
    "prior_period_adjustment": N_("prior period adjustment"),
    # service levels (DESIGN 16): lines of a statement, and the KPIs on pages
    "service_level": N_("service level"),
    "abandoned": N_("abandoned calls"),
    "answer_speed": N_("answer speed"),
    "repeat_contacts": N_("repeat contacts"),
    "csat": N_("customer satisfaction"),
    "resolved": N_("resolved at first contact"),
    "service_cap": N_("service cap"),
    # how the client's count and the log compared (the contract page)
    "reconciled_matched": N_("the counts agree within the tolerance"),
    "reconciled_log_short": N_("the log is short: the missing calls count as abandoned"),
    "reconciled_log_over": N_("the log holds more: the volume pays the client's count"),
    "reconciled_incomplete": N_("not reconciled: the client's count misses some days"),
    # the self-assessment check
    "verified": N_("verified"),
    "corrected": N_("corrected"),
    "unverified": N_("unverified"),
    "not_checked": N_("not checked"),
    # disputes: states, outcomes, steps
    "open": N_("open"),
    "decided": N_("decided"),
    "escalated": N_("escalated"),
    "arbitrated": N_("arbitrated"),
    "withdrawn": N_("withdrawn"),
    "accepted": N_("accepted"),
    "partly_accepted": N_("partly accepted"),
    "rejected": N_("rejected"),
    "opened": N_("opened"),
    # roles, sources of an evaluation, kinds of organization
    "admin": N_("admin"),
    "client": N_("client"),
    "finance": N_("finance"),
    "supplier": N_("supplier"),
    "third_party": N_("third party"),
    # revisions of an evaluation
    "submission": N_("submission"),
    "amendment": N_("amendment"),
    "retraction": N_("retraction"),
    "decision": N_("decision"),
    "arbitration": N_("arbitration"),
    # forms: answers, kinds of question, critical categories, what a "no" fails
    "yes": N_("yes"),
    "no": N_("no"),
    "na": N_("not applicable"),
    "yes_no": N_("yes / no"),
    "scale": N_("scale"),
    "customer": N_("customer"),
    "business": N_("business"),
    "compliance": N_("compliance"),
    "section": N_("section"),
    "form": N_("form"),
}


def label(code: Any) -> Any:
    """Return the word for a code in the reader's language (the code itself if it has none)."""
    if code is None:
        return ""
    found = LABELS.get(str(code))
    return gettext(found) if found is not None else code
