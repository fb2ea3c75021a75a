"""Languages: Italian and English, from the catalogs in service/language/translations (DESIGN §15).

Pages speak the reader's language (Flask-Babel picks it per request: the user's own, else
the browser's `Accept-Language`, else English). Report files and notices speak their
organization's language, with no request around them: they take a `Speech` of that language.
The API stays English.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_locale
from werkzeug.datastructures import LanguageAccept

from contracts.text import Text

LANGUAGES = ("it", "en")
DEFAULT_LANGUAGE = "en"
# What each language is called in itself, for the pickers.
LANGUAGE_NAMES = {"it": "Italiano", "en": "English"}
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a message for the catalogs where it is written; it is translated where it is said."""
    return message


@cache
def catalog(language: str) -> NullTranslations:
    """Return the compiled catalog of a language (English is the source: no catalog)."""
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [language], DOMAIN)


class Speech:
    """Text in one language, for what is made with no request: report files, notices."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._catalog = catalog(self.language)

    def gettext(self, message: str, **values: Any) -> str:
        """Translate a message and fill in its `%(name)s` values."""
        said = self._catalog.gettext(message)
        return said % values if values else said

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """Translate a message whose words follow a number `n` (given as `num` too)."""
        said = self._catalog.ngettext(singular, plural, n)
        return said % {"num": n, **values}

    def message(self, text: str) -> str:
        """Say an English message of the service in this language, when the catalog has it."""
        if isinstance(text, Text):
            return self.gettext(text.template, **text.values)
        if not text:
            return text
        said = self._catalog.gettext(text)
        if said != text or self.language == DEFAULT_LANGUAGE:
            return said
        for pattern, template in SCHEMA_MESSAGES:
            found = pattern.fullmatch(text)
            if found is not None:
                return self.gettext(template, **found.groupdict())
        return text


# Marshmallow's words for a field it refuses, which the pages show: those it fills in with
# figures, as patterns; those it says as they are, for the catalogs.
SCHEMA_MESSAGES = [
    (
        re.compile(r"Length must be between (?P<low>\d+) and (?P<high>\d+)\."),
        N_("Length must be between %(low)s and %(high)s."),
    ),
    (
        re.compile(r"Shorter than minimum length (?P<low>\d+)\."),
        N_("Shorter than minimum length %(low)s."),
    ),
    (
        re.compile(r"Longer than maximum length (?P<high>\d+)\."),
        N_("Longer than maximum length %(high)s."),
    ),
    (re.compile(r"Must be one of: (?P<choices>.*)\."), N_("Must be one of: %(choices)s.")),
]
SCHEMA_WORDS = (
    N_("Not a valid email address."),
    N_("Not a valid integer."),
    N_("Not a valid string."),
    N_("Not a valid boolean."),
    N_("Field may not be null."),
    N_("Unknown field."),
    N_("Invalid value."),
    # A name or a title with a line break or a tab (contracts._fields.CONTROL_MESSAGE).
    N_("must not contain control characters (line breaks, tabs)"),
)


def current_language() -> str:
    """Return the language of the page being made (English outside a request)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def speech() -> Speech:
    """Return the Speech of the page being made."""
    return Speech(current_language())


def translated(text: str) -> str:
    """Say an English message of the service in the reader's language (pages only)."""
    return speech().message(text)


def translated_tree(errors: Any) -> Any:
    """Say every message of a tree of field errors in the reader's language (pages only)."""
    if isinstance(errors, dict):
        return {key: translated_tree(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [translated_tree(value) for value in errors]
    return translated(errors) if isinstance(errors, str) else errors


def select_language() -> str:
    """Pick a request's language: the API's is English; a page's is its user's, else the
    browser's first choice we speak, else English."""
    if request.path.startswith("/api/"):
        return DEFAULT_LANGUAGE
    user = g.get("user")
    if user is not None and user.language in LANGUAGES:
        return str(user.language)
    # A wildcard (`*`: any language) stands for the default: werkzeug would match it to the
    # first language listed, Italian.
    asked = request.accept_languages
    named = LanguageAccept([(DEFAULT_LANGUAGE if name == "*" else name, q) for name, q in asked])
    return named.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def init_app(app: Flask) -> None:
    """Give the app its catalogs, the language selector, and `_` in templates."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    Babel(app, locale_selector=select_language)
    # Sentences in templates are wrapped over lines; the catalog holds them on one.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.globals.update(language=current_language, LANGUAGE_NAMES=LANGUAGE_NAMES)
