"""Anyone can check a statement's hash: the API recomputes it, and the README's recipe does."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from contracts import payout
from contracts.examples import SAMPLED_TERMS, load_example
from contracts.terms import parse_terms
from service.statements.models import Statement
from service.statements.reasons import stored_lines
from service.statements.service import content_hash
from tests.conftest import World, json_of, seed_month

ROOT = Path(__file__).parents[2]
# A final statement's stored content and its hash, as the code before `verify` made them.
BEFORE = Path(__file__).with_name("final-statement-2026-09.json")


@pytest.fixture
def august(app: Flask, client: FlaskClient, world: World) -> dict[str, Any]:
    """Draft August as finance and return the draft as the API shows it."""
    seed_month(app, world, "2026-08", seed=11)
    response = client.post(
        f"/api/v1/contracts/{world.ids['contract']}/statements",
        json={"period": "2026-08"},
        headers=world.headers("finance"),
    )
    assert response.status_code == 201
    shown: dict[str, Any] = json_of(response)
    return shown


def finalized(client: FlaskClient, world: World, statement_id: int) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/statements/{statement_id}/finalize", headers=world.headers("finance")
    )
    assert response.status_code == 200
    shown: dict[str, Any] = json_of(response)
    return shown


def verify(client: FlaskClient, world: World, statement_id: int, who: str) -> Any:
    return client.get(f"/api/v1/statements/{statement_id}/verify", headers=world.headers(who))


def test_both_parties_verify_that_a_final_statement_hashes_to_its_content_hash(
    client: FlaskClient, world: World, august: dict[str, Any]
) -> None:
    final = finalized(client, world, august["id"])
    for who in ("finance", "client", "supplier", "admin"):
        response = verify(client, world, august["id"], who)
        assert response.status_code == 200
        assert json_of(response) == {
            "statement_id": august["id"],
            "status": "final",
            "content_hash": final["content_hash"],
            "recomputed": final["content_hash"],
            "matches": True,
        }
    for who in ("other_client", "other_finance", "other_supplier"):
        assert verify(client, world, august["id"], who).status_code == 404


def test_a_final_statement_whose_content_differs_from_its_hash_does_not_verify(
    app: Flask, client: FlaskClient, world: World, august: dict[str, Any]
) -> None:
    draft = json_of(verify(client, world, august["id"], "supplier"))
    assert draft["status"] == "draft" and draft["content_hash"] is None
    assert draft["matches"] is False and len(draft["recomputed"]) == 64
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        session.execute(
            update(Statement)
            .where(Statement.id == august["id"])
            .values(status="final", content_hash="0" * 64)
        )
    shown = json_of(verify(client, world, august["id"], "supplier"))
    assert shown["status"] == "final" and shown["content_hash"] == "0" * 64
    assert shown["recomputed"] == draft["recomputed"] and shown["matches"] is False


def test_the_api_names_the_terms_version_as_the_hashed_document_does(
    client: FlaskClient, world: World, august: dict[str, Any]
) -> None:
    final = finalized(client, world, august["id"])
    assert "terms_version" not in final
    contract = json_of(
        client.get(f"/api/v1/contracts/{world.ids['contract']}", headers=world.headers("client"))
    )
    assert final["terms_version_id"] == contract["terms_versions"][0]["id"]


def readme_snippet() -> str:
    """Return the README's lines that check a statement's hash by hand."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- verify-statement -->", 1)[1]
    return block.split("```python\n", 1)[1].split("```", 1)[0]


def check_by_hand(tmp_path: Path, shown: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """Run the README's recipe, with Python alone, on a statement as saved from the API."""
    script = tmp_path / "check.py"
    script.write_text(readme_snippet(), encoding="utf-8")
    (tmp_path / "statement.json").write_text(json.dumps(shown), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-I", str(script)], cwd=tmp_path, capture_output=True, text=True
    )


def test_the_readmes_recipe_checks_a_final_statement_from_the_api_and_fails_a_tampered_one(
    client: FlaskClient, world: World, august: dict[str, Any], tmp_path: Path
) -> None:
    finalized(client, world, august["id"])
    shown = json_of(
        client.get(f"/api/v1/statements/{august['id']}", headers=world.headers("supplier"))
    )
    real = check_by_hand(tmp_path, shown)
    assert real.returncode == 0, real.stderr
    assert f"statement {august['id']} is the content its content_hash was made from" in real.stdout

    more = str(Decimal(shown["total"]) + 1)
    tampered = check_by_hand(tmp_path, shown | {"total": more})
    assert tampered.returncode != 0 and "AssertionError" in tampered.stderr
    lines = [dict(line) for line in shown["lines"]]
    lines[0]["description"] += " "
    assert check_by_hand(tmp_path, shown | {"lines": lines}).returncode != 0


def stored_statement(stored: dict[str, Any], lines: list[dict[str, Any]]) -> Statement:
    """Return a final statement holding `stored`'s content with `lines`."""
    return Statement(
        id=7,
        contract_id=stored["contract_id"],
        period=stored["period"],
        currency=stored["currency"],
        terms_version_id=stored["terms_version_id"],
        figures=stored["figures"],
        lines=lines,
        total_minor=int(Decimal(stored["total"]) * 100),
        volume_only_minor=int(Decimal(stored["volume_only"]) * 100),
        status="final",
        content_hash=stored["content_hash"],
    )


def test_a_statement_finalized_before_the_verify_endpoint_keeps_its_hash(tmp_path: Path) -> None:
    stored = json.loads(BEFORE.read_text(encoding="utf-8"))
    assert content_hash(stored_statement(stored, stored["lines"])) == stored["content_hash"]
    by_hand = check_by_hand(tmp_path, stored | {"id": 7})
    assert by_hand.returncode == 0, by_hand.stderr


def test_a_final_statement_worded_again_from_its_lines_basis_reads_and_hashes_as_stored() -> None:
    """Its lines, as the rules give them now (code, amount, basis: no words), are worded by
    the one path that words every stored line: byte for byte as stored, so the same hash."""
    stored = json.loads(BEFORE.read_text(encoding="utf-8"))
    computed = payout.Statement(
        stored["currency"],
        tuple(
            payout.Line(line["code"], Decimal(line["amount"]), line["basis"])
            for line in stored["lines"]
        ),
        Decimal(stored["total"]),
        Decimal(stored["volume_only"]),
    )
    terms = parse_terms(load_example(SAMPLED_TERMS))  # the fixture's terms, by its basis

    worded = stored_lines(computed, terms)

    assert [line["description"] for line in worded] == [
        "Volume fee: 2,438 units of handled contact (logged inbound calls) at 1.10",
        "Quality band 92+ (+12%): the 95% interval 93.82–96.43 lies wholly at or above 92",
        "Customer critical errors: rate 1.7241% (3 of 174) is within the 2% limit",
        "Compliance critical errors: rate 0.5747% (1 of 174) is above the 0.5% limit, but the"
        " 95% Wilson interval 0.1015%–3.1831% reaches down to it, so the excess is not proven",
    ]
    assert worded == stored["lines"]
    assert content_hash(stored_statement(stored, worded)) == stored["content_hash"]
