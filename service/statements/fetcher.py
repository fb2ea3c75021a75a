"""The PDF renderer's URL fetcher: a document made from user text fetches nothing (DESIGN §14).

WeasyPrint's default fetcher opens any URL a document names: http and https (the server as
a client of whatever it names, inside the network), file (the server's own files), ftp.
The statement's template names none: its fonts are the system's, found by fontconfig, not
fetched. So the only URLs a statement may read are `data:` ones, which carry their content.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

ALLOWED_SCHEMES = frozenset({"data"})


class Refused(ValueError):
    """A URL a document may not read."""


class DataOnlyFetcher(URLFetcher):
    """Read `data:` URLs; refuse every other URL without opening anything."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=ALLOWED_SCHEMES, allow_redirects=False, timeout=1)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Return a `data:` URL's content; refuse any other URL (WeasyPrint leaves it out)."""
        scheme = urlsplit(url.strip()).scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            log.warning("a document asked for %.200r: refused, documents fetch nothing", url)
            raise Refused(f"documents fetch nothing but data: URLs; refused {url[:200]!r}")
        response: URLFetcherResponse = super().fetch(url, headers)
        return response
