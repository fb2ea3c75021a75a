"""The example forms and terms that ship with the product, as plain documents."""

from __future__ import annotations

import copy
from functools import cache
from importlib import resources
from typing import Any

import yaml

STANDARD_FORM = "standard-form.yaml"
QUALITY_TERMS = "terms-quality.yaml"
SAMPLED_TERMS = "terms-sampled.yaml"


def load_example(name: str) -> dict[str, Any]:
    """Return an example document of this folder (a YAML file) as plain values, the caller's
    own copy to change."""
    return copy.deepcopy(_parsed(name))


@cache
def _parsed(name: str) -> dict[str, Any]:
    # Parsed once: pure-Python YAML took 30 ms a file, and every test's world publishes two.
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document
