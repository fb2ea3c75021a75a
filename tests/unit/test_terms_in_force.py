"""The terms in force are parsed once per stored version, and read again without serializing."""

import copy
import json
from datetime import date
from typing import Any

import pytest

from contracts import terms as terms_rules
from contracts.examples import QUALITY_TERMS, SAMPLED_TERMS, load_example
from service.agreements import service as agreements
from service.agreements.models import TermsVersion
from service.agreements.service import PeriodTerms

DOCUMENTS = {
    example: terms_rules.terms_document(terms_rules.parse_terms(load_example(example)))
    for example in (QUALITY_TERMS, SAMPLED_TERMS)
}


def stored(version_id: int | None, example: str) -> TermsVersion:
    """Return a terms version as a session reads it: its id, and its own copy of its document."""
    document = copy.deepcopy(DOCUMENTS[example])
    first = date(2026, 8, 1)
    return TermsVersion(id=version_id, effective_from=first, form_id=1, document=document)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the parses of terms documents and the documents serialized to JSON."""
    counts = {"parsed": 0, "serialized": 0}
    parse, dumps = terms_rules.parse_terms, json.dumps

    def parse_terms(*args: Any, **kwargs: Any) -> terms_rules.Terms:
        counts["parsed"] += 1
        return parse(*args, **kwargs)

    def serialize(*args: Any, **kwargs: Any) -> str:
        counts["serialized"] += 1
        return dumps(*args, **kwargs)

    monkeypatch.setattr(agreements, "parse_terms", parse_terms)  # the name agreements reads
    monkeypatch.setattr(json, "dumps", serialize)
    return counts


def test_a_versions_terms_read_four_times_are_parsed_once_and_never_serialized(
    counted: dict[str, int],
) -> None:
    version = stored(9_001, SAMPLED_TERMS)

    read = [PeriodTerms(version).terms for _ in range(4)]

    assert read[0].sampling is not None and all(terms is read[0] for terms in read)
    assert counted == {"parsed": 1, "serialized": 0}


def test_the_same_version_read_by_another_session_is_not_parsed_again(
    counted: dict[str, int],
) -> None:
    first = PeriodTerms(stored(9_002, SAMPLED_TERMS)).terms

    again = PeriodTerms(stored(9_002, SAMPLED_TERMS)).terms  # its own copy of the document

    assert again is first
    assert counted == {"parsed": 1, "serialized": 0}


def test_an_id_given_again_to_other_terms_reads_those_terms() -> None:
    # SQLite gives the id of a row rolled back, or of an emptied table's, to the next row.
    sampled = PeriodTerms(stored(9_003, SAMPLED_TERMS)).terms
    quality = PeriodTerms(stored(9_003, QUALITY_TERMS)).terms

    assert sampled.sampling is not None
    assert quality.sampling is None


def test_a_version_not_stored_yet_reads_its_own_terms() -> None:
    sampled = PeriodTerms(stored(None, SAMPLED_TERMS)).terms
    quality = PeriodTerms(stored(None, QUALITY_TERMS)).terms

    assert (sampled.sampling is not None, quality.sampling is None) == (True, True)
