"""The scoring page reads a call reference as every other path does (DESIGN 13)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask
from sqlalchemy import select

from service.evaluations.models import Evaluation
from tests.conftest import World
from tests.web import test_dispute_pages
from tests.web.test_dispute_pages import Browse
from tests.web.test_scoring_pages import fields, page_of, send

browse = test_dispute_pages.browse  # the fixture: a signed-in test client per user


def evaluated(app: Flask) -> list[str]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        return list(session.scalars(select(Evaluation.call_ref).order_by(Evaluation.id)))


def test_a_call_scored_on_the_page_in_full_width_is_the_call_scored_before(
    app: Flask, browse: Browse, world: World
) -> None:
    first = send(browse, "supplier", world, fields(call_ref="ADV-1"))
    again = send(browse, "supplier", world, fields(call_ref="ＡＤＶ-1\u3000"))

    assert first.status_code == again.status_code == 302
    assert again.location == first.location  # the stored evaluation's page, both times
    assert evaluated(app) == ["ADV-1"]


def test_a_page_linking_a_spaced_reference_prefills_it_normalized(
    browse: Browse, world: World
) -> None:
    shown = browse("supplier").get(f"{page_of(world)}&call_ref={quote(' ＡＤＶ-1 ')}")

    assert shown.status_code == 200
    assert 'name="call_ref" maxlength="200" required value="ADV-1"' in shown.text
