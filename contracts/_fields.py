"""Read the fields of a plain document, collecting every problem by its dotted path.

Each reader returns the value it read, or None after recording why it could not, so a
parser can go on and report all the problems of a document at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

from contracts.errors import RuleError
from contracts.money import parse_percent, shift_point

KEY = re.compile(r"[a-z0-9_-]+")
KEY_MESSAGE = "must be lower-case letters, digits, '_' or '-'"

# A name or a title is one line of text: no C0 or C1 control character (line breaks, tabs,
# escapes) and no Unicode line or paragraph separator, whatever shows it later (a page, a PDF).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
CONTROL_MESSAGE = "must not contain control characters (line breaks, tabs)"
# A longer text (a question's) may run over lines; no other control character either.
CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_RATIO_TEXT = re.compile(r"[+-]?\d+/\d+")

Choice = TypeVar("Choice", bound=str)


class Problems:
    """The problems found so far in one document, by dotted path."""

    __slots__ = ("errors",)

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        """Record a problem at a path ("" is the document itself)."""
        self.errors.setdefault(path or "_schema", []).append(message)

    def raise_any(self) -> None:
        """Raise RuleError if any problem was recorded."""
        if self.errors:
            raise RuleError(self.errors)


def at(path: str, key: object) -> str:
    """Return the path of a child field or list item."""
    return f"{path}.{key}" if path else str(key)


def mapping(
    value: object,
    path: str,
    problems: Problems,
    *,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> Mapping[str, Any] | None:
    """Check that a value is a mapping with the required fields and no unknown ones."""
    if not isinstance(value, Mapping):
        problems.add(path, "must be a mapping")
        return None
    for name in value:
        if name not in required and name not in optional:
            problems.add(at(path, name), "unknown field")
    for name in required:
        if name not in value:
            problems.add(at(path, name), "is required")
    return value


def items(value: object, path: str, problems: Problems) -> Sequence[Any] | None:
    """Check that a value is a non-empty list."""
    if not isinstance(value, list | tuple):
        problems.add(path, "must be a list")
        return None
    if not value:
        problems.add(path, "must not be empty")
        return None
    return value


def text(value: object, path: str, problems: Problems, *, lines: bool = False) -> str | None:
    """Read a non-blank string, trimmed: a name or a title on one line, or with `lines` a
    text that may run over several (a YAML block's closing line break is trimmed away)."""
    if not isinstance(value, str):
        problems.add(path, "must be a string")
        return None
    value = value.strip(" \t\r\n")  # ordinary spaces only: a C1 or separator is refused
    if not value.strip():
        problems.add(path, "must not be blank")
        return None
    if (CONTROL_BUT_LINES if lines else CONTROL).search(value):
        problems.add(path, CONTROL_MESSAGE)
        return None
    return value


def key(value: object, path: str, problems: Problems) -> str | None:
    """Read an identifier such as a form code or a question key."""
    if not isinstance(value, str):
        problems.add(path, "must be a string")
        return None
    if not KEY.fullmatch(value):
        problems.add(path, KEY_MESSAGE)
        return None
    return value


def choice(
    value: object, path: str, problems: Problems, options: tuple[Choice, ...]
) -> Choice | None:
    """Read one of a fixed set of words."""
    for option in options:
        if isinstance(value, str) and value == option:
            return option
    problems.add(path, f"must be one of {', '.join(options)}")
    return None


def flag(value: object, path: str, problems: Problems) -> bool | None:
    """Read true or false."""
    if not isinstance(value, bool):
        problems.add(path, "must be true or false")
        return None
    return value


def integer(value: object, path: str, problems: Problems, *, minimum: int) -> int | None:
    """Read a whole number no smaller than `minimum` (true and false are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(path, "must be a whole number")
        return None
    if value < minimum:
        problems.add(
            path, "must not be negative" if minimum == 0 else f"must be at least {minimum}"
        )
        return None
    return value


def decimal(value: object, path: str, problems: Problems) -> Decimal | None:
    """Read a number given as an int, a decimal string, a float or a Decimal."""
    number = _to_decimal(value)
    if number is None:
        problems.add(path, "must be a number")
    return number


def ratio(value: object, path: str, problems: Problems) -> Fraction | None:
    """Read a number as an exact Fraction; strings may also be written "1/3"."""
    if isinstance(value, str) and _RATIO_TEXT.fullmatch(value.strip()):
        numerator, denominator = value.strip().split("/")
        if int(denominator) != 0:
            return Fraction(int(numerator), int(denominator))
    elif (number := _to_decimal(value)) is not None:
        return Fraction(number)
    problems.add(path, "must be a number")
    return None


def percent(value: object, path: str, problems: Problems) -> Decimal | None:
    """Read a percentage string such as "+12%" as a fraction (0.12)."""
    if isinstance(value, str):
        try:
            return parse_percent(value)
        except ValueError:
            pass
    problems.add(path, 'must be a percentage such as "+12%", "-8%" or "0.5%"')
    return None


def number_out(value: Fraction | Decimal) -> int | str:
    """Write a number for a document: an int when whole, else an exact string."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else format(value, "f")
    if value.denominator == 1:
        return value.numerator
    twos = fives = 0
    rest = value.denominator
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    if rest != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    scaled = value.numerator * 10**places // value.denominator
    return format(shift_point(Decimal(scaled), -places), "f")


def percent_out(value: Decimal, *, signed: bool) -> str:
    """Write a fraction as a percentage string: 0.12 as "+12%" (or "12%" unsigned)."""
    if value == 0:
        return "0%"
    points = format(shift_point(value, 2), "f")
    if "." in points:
        points = points.rstrip("0").removesuffix(".")
    return f"+{points}%" if signed and value > 0 else f"{points}%"


def _to_decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # str() gives the shortest repr, so 0.1 reads as 0.1 and not as its binary value
        return Decimal(str(value)) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value.strip()):
        return Decimal(value.strip())
    return None
