"""What makes two call references the same call (DESIGN 13).

A reference is compared after Unicode NFKC normalization and trimming, its case kept: ` ADV-1`
and `ＡＤＶ-1` (full-width) are the call the log holds as `ADV-1`, and `adv-1` is another. Every
path that takes a reference stores and compares it in this form: the call log's batches and
files, evaluations one by one, in batches and in spreadsheets, the scoring page.
"""

from __future__ import annotations

import unicodedata


def normalize_call_ref(text: str) -> str:
    """Return a call reference as it is stored and compared: NFKC-normalized, trimmed, case kept.

    An empty result is no reference: whoever reads it refuses it, naming the field.
    """
    if text.isascii():  # NFKC leaves ASCII as it is; a month's log is millions of these
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip()
