"""Call references compared as DESIGN 13 says: trimmed, NFKC-normalized, case kept."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from contracts.calls import normalize_call_ref


@pytest.mark.parametrize(
    ("given_ref", "stored"),
    [
        ("ADV-1", "ADV-1"),
        (" ADV-1 ", "ADV-1"),
        ("\tADV-1\r\n", "ADV-1"),
        ("ＡＤＶ-1", "ADV-1"),  # full-width letters
        ("ＡＤＶ－１", "ADV-1"),  # full-width hyphen and digit
        ("\u3000ADV-1\u00a0", "ADV-1"),  # an ideographic space, a no-break space
        ("adv-1", "adv-1"),  # case is kept: another call
        ("A DV-1", "A DV-1"),  # spaces inside stay
        ("ｶﾞ-7", "ガ-7"),  # half-width katakana composed
        ("Cafe\u0301", "Café"),
    ],
)
def test_a_reference_is_trimmed_and_normalized_with_its_case_kept(
    given_ref: str, stored: str
) -> None:
    assert normalize_call_ref(given_ref) == stored


@pytest.mark.parametrize("blank", ["", " ", "\u3000", " \t\n "])
def test_a_reference_of_only_spaces_is_empty(blank: str) -> None:
    assert normalize_call_ref(blank) == ""


@given(st.text(max_size=30))
@example(" \u0301x")
@example("\u00b4 ")  # an acute accent: a space and a combining mark once decomposed
def test_normalizing_twice_changes_nothing_and_leaves_the_nfkc_form_trimmed(text: str) -> None:
    once = normalize_call_ref(text)
    assert normalize_call_ref(once) == once
    assert unicodedata.is_normalized("NFKC", once)
    assert once == once.strip()
    assert once == unicodedata.normalize("NFKC", text).strip()  # the ASCII shortcut agrees
