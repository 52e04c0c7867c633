"""Credit repair over HTTP, against a served app with real mail: a signed-in resident applies for
repair of a tax-arrears record a year old and gets a receipt; the tax bureau's officer sees it
first in the queue, and grants it with the rule's conditions confirmed; a police officer cannot,
and a second decision is refused. On SQLite and PostgreSQL."""

from pathlib import Path

import httpx
from sqlalchemy import select

from credence import resolve
from credence.store.orm import Record
from tests.common.feeds import Registry
from tests.common.signin import ALICE, BOB, Site, add_officer, officer_sign_in


def arrears(site: Site, tmp_path: Path, id_number: str, day: str) -> str:
    """Seed a tax-arrears record (Suzhou-style: repairable a year after its date); its id."""
    reg = Registry(site.engine, tmp_path, now=site.clock.now)
    row = {"id_number": id_number, "kind": "tax_arrears", "date": day, "attrs": {"amount_yuan": 12000}}
    reg.feed("tax", [row])
    with site.engine.connect() as conn:
        subject = resolve.find(conn, id_number)
        kind = Record.kind == "tax_arrears"
        return str(conn.execute(select(Record.id).where(Record.subject_id == subject, kind)).scalar_one())


def apply(site: Site, token: str | None, record: str, **given: object) -> httpx.Response:
    body = {"record_id": record, "statement": "Arrears and late fees paid in full.", **given}
    return site.post("/v1/repairs", body, token)


def test_a_resident_applies_for_repair_and_the_tax_officer_grants_it(site: Site, tmp_path: Path) -> None:
    record = arrears(site, tmp_path, ALICE, "2025-01-15")
    alice = site.sign_in(ALICE, "alice@example.com")
    filed = apply(site, alice, record)
    assert filed.status_code == 201, filed.text
    receipt = filed.json()
    assert receipt["receipt"].startswith("R2026")
    assert (receipt["agency"], receipt["scheme"], receipt["rule"]) == ("tax", "suzhou-osmanthus", "tax-arrears")
    assert receipt["conditions"] == ["arrears and late fees paid"]
    assert receipt["state"] == "open"
    assert site.get("/v1/me/repairs", alice).json()["repairs"][0]["receipt"] == receipt["receipt"]

    add_officer(site, "wang.fang", "tax", "wang.fang@tax.example.com")
    add_officer(site, "wu.lei", "police", "wu.lei@police.example.com")
    tax = officer_sign_in(site, "wang.fang", "wang.fang@tax.example.com")
    police = officer_sign_in(site, "wu.lei", "wu.lei@police.example.com")
    assert [a["receipt"] for a in site.get("/v1/officers/repairs", tax).json()["repairs"]] == [receipt["receipt"]]
    assert site.get("/v1/officers/repairs", police).json()["repairs"] == []

    path = f"/v1/repairs/{receipt['id']}/decision"
    grant = {"granted": True, "confirmed": receipt["conditions"]}
    refused = site.post(path, grant, police)
    assert refused.status_code == 403
    assert "is for agency tax; you act for police" in refused.json()["detail"]
    unconfirmed = site.post(path, {"granted": True}, tax)
    assert unconfirmed.status_code == 422
    assert unconfirmed.json()["field"] == "confirmed"
    decided = site.post(path, grant, tax)
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "granted"
    assert decided.json()["repair_record_id"]
    again = site.post(path, grant, tax)
    assert again.status_code == 422
    assert again.json()["field"] == "application"
    assert site.post(path, grant, alice).status_code == 401  # a subject's session is not an officer's


def test_what_the_repairs_endpoint_refuses(site: Site, tmp_path: Path) -> None:
    young = arrears(site, tmp_path, ALICE, "2025-12-01")  # its year has not run
    alice = site.sign_in(ALICE, "alice@example.com")
    bob = site.sign_in(BOB, "bob@example.com")
    assert apply(site, None, young).status_code == 401
    not_his = apply(site, bob, young)
    assert not_his.status_code == 422
    assert not_his.json()["field"] == "record_id"
    early = apply(site, alice, young)
    assert early.status_code == 422
    assert "from 2026-12-01" in early.json()["detail"]
    assert apply(site, alice, young, statement="").status_code == 422
    text = apply(site, alice, young, evidence=["cGxhaW4gd29yZHM="])  # "plain words": not a PDF or an image
    assert text.status_code == 422
    assert text.json()["field"] == "evidence[0]"
