"""The registry's auditors read the gate's inquiry log over HTTP (issue 10, part 5: the auditor
"reads the log and the inquiry log"), against a served registry on SQLite and PostgreSQL: who
asked, for what and what they were told, never about whom; each provider's tally shows one
probing the registry. Any other officer is refused with 403 naming the role."""

import time
from datetime import UTC, datetime

import httpx

from credence.screening.inquiries import digest
from tests.common.gate import add_provider
from tests.common.signin import ALICE, BOB, Site, add_officer, officer_sign_in


def ask(site: Site, key: str, subject: str) -> tuple[str, str]:
    """The reference and decision of a flight check; a key issued while the gate runs is live
    within its key poll (0.5 s)."""
    deadline = time.monotonic() + 5
    while True:
        done = httpx.post(
            f"{site.base}/v1/checks",
            json={"subject": subject, "action": "flight"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        if done.status_code != 401 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert done.status_code == 200, done.text
    return done.json()["reference"], done.json()["decision"]


def read(site: Site, token: str, query: str = "") -> httpx.Response:
    return site.get(f"/v1/audit/inquiries{query}", token)


def test_an_auditor_reads_who_asked_and_never_about_whom(site: Site) -> None:
    airline = add_provider(site.engine, "east-air", "flight")
    prober = add_provider(site.engine, "nosy-air", "flight")
    asked = [ask(site, airline, ALICE), ask(site, airline, ALICE)]
    probed = [ask(site, prober, number) for number in (ALICE, BOB)]
    add_officer(site, "chen.audit", "registry", "chen.audit@registry.example.com", role="auditor")
    add_officer(site, "wu.lei", "police", "wu.lei@police.example.com", role="second_officer")
    auditor = officer_sign_in(site, "chen.audit", "chen.audit@registry.example.com")
    insider = officer_sign_in(site, "wu.lei", "wu.lei@police.example.com")

    deadline = time.monotonic() + 10
    while len(found := read(site, auditor).json()["inquiries"]) < 4:  # the log flushes every 0.1 s
        assert time.monotonic() < deadline, found
        time.sleep(0.1)
    body = read(site, auditor)
    assert body.status_code == 200, body.text
    shown = body.json()
    answers = dict(asked + probed)
    assert {i["reference"]: i["decision"] for i in shown["inquiries"]} == answers
    assert [i["provider"] for i in shown["inquiries"]] == ["nosy-air", "nosy-air", "east-air", "east-air"]
    tallies = {t["provider"]: (t["inquiries"], t["subjects"], t["restricted"]) for t in shown["providers"]}

    def restricted(replies: list[tuple[str, str]]) -> int:
        return sum(decision == "restricted" for _, decision in replies)

    assert tallies == {"east-air": (2, 1, restricted(asked)), "nosy-air": (2, 2, restricted(probed))}
    for secret in (ALICE, BOB, digest(ALICE), digest(BOB)):
        assert secret not in body.text

    one = read(site, auditor, "?provider=nosy-air&limit=1").json()
    assert [i["provider"] for i in one["inquiries"]] == ["nosy-air"]
    assert [t["provider"] for t in one["providers"]] == ["nosy-air"]
    later = datetime(2100, 1, 1, tzinfo=UTC).isoformat()
    assert read(site, auditor, f"?since={later.replace('+', '%2B')}").json() == {"inquiries": [], "providers": []}
    assert read(site, auditor, "?until=2000-01-01T08:00").json() == {"inquiries": [], "providers": []}  # legal time
    assert read(site, auditor, "?until=9999-12-31T23:00").json()["providers"]  # a naive end, read as legal time

    refused = read(site, insider)
    assert (refused.status_code, refused.json()["field"]) == (403, "role")
    assert read(site, auditor, "?limit=0").status_code == 422
