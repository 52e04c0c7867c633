"""``credence resolve`` as a clerk uses it: an unidentified roster ingested with the shipped
mapping and model, the queue shown masked, a judgement recorded and its history, the evaluation."""

import csv
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from credence.cli import app
from credence.cli.context import console
from credence.settings import get_settings
from tests.common.feeds import Registry, person_id

ROOT = Path(__file__).resolve().parents[2]
CONNECTORS = ROOT / "connectors"
SURE = (person_id(date(1975, 8, 2), seq=22), "李娜", "1975-08-02", "320505", "干将路88号", "13998765432")
TWINS = [
    (person_id(date(1980, 3, 14), seq=11), "张伟", "1980-03-14", "320505", "人民路12号", "13812345678"),
    (person_id(date(1980, 3, 14), seq=13), "张伟", "1980-03-14", "320505", "中山路7号", "13700001111"),
]
COLUMNS = ("entry_id", "committee", "name", "birth_date", "district", "address", "phone", "year", "hours", "issued_on")


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


@pytest.fixture
def registry(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CREDENCE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setattr(console, "width", 400)
    get_settings.cache_clear()
    reg = Registry(engine, tmp_path, now=datetime(2026, 11, 27, 4, 0, tzinfo=UTC))
    rows = []
    for number, name, _, district, street, phone in [SURE, *TWINS]:
        attrs = {"region": district, "status": "registered", "name": name, "address": street}
        rows.append({"id_number": number, "kind": "residence", "date": "2024-01-05", "attrs": attrs})
        rows.append({"id_number": number, "kind": "contact", "date": "2024-01-05", "attrs": {"phone": phone}})
    reg.feed("police", rows)
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    with (feeds / "community.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerow(
            ["COM-1", "320505", "李娜", "1975-08-02", "320505", "干将路88号", "", "2025", "12", "2026-01-10"]
        )
        writer.writerow(["COM-2", "320505", "张伟", "1980-03-14", "320505", "", "", "2025", "30", "2026-01-10"])
    with (feeds / "linkage_truth.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("source", "source_record_id", "id_number"))
        writer.writerows([("community", "COM-1", SURE[0]), ("community", "COM-2", TWINS[1][0])])
    yield feeds
    get_settings.cache_clear()


def test_the_clerk_sees_masked_pairs_decides_and_the_history_stays(registry: Path) -> None:
    out = invoke("ingest", "--feeds", str(registry), "--connectors", str(CONNECTORS))
    assert "1 linked automatically, 1 wait for a clerk" in out
    queue = invoke("resolve", "queue")
    for whole in ("张伟", "1980-03-14", "13812345678", "13700001111", TWINS[0][0], TWINS[1][0]):
        assert whole not in queue  # masked: never a whole name, birth date, phone or ID number
    assert "张*" in queue
    assert "1980-03-**" in queue
    assert "1 pairs wait" in queue
    (pair,) = json.loads(CliRunner().invoke(app, ["resolve", "queue", "--json"]).output)["pairs"]
    assert pair["source_record_id"] == "COM-2"
    assert pair["record"]["name"] == "张*"
    decided = invoke("resolve", "decide", str(pair["link"]), "--no-match", "--by", "clerk.li")
    assert f"pair {pair['link']}: no_match by clerk.li; its row stays in quarantine" in decided
    assert "no pair waits for a clerk" in invoke("resolve", "queue")
    history = invoke("resolve", "history", str(pair["link"]))
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d no_match by clerk.li", history)
    scores = json.loads(
        CliRunner()
        .invoke(app, ["resolve", "evaluate", "--truth", str(registry / "linkage_truth.csv"), "--json"])
        .output
    )
    assert scores == [
        {
            "source": "community",
            "weighed": 2,
            "identifiable": 2,
            "auto": 1,
            "auto_right": 1,
            "queued": 0,
            "queued_right": 0,
            "judged": 1,
            "unlinked": 0,
            "precision": 1.0,
            "recall": 0.5,
            "f1": pytest.approx(2 / 3),
        }
    ]


def test_decide_refuses_without_a_judgement_or_a_clerk(registry: Path) -> None:
    invoke("ingest", "--feeds", str(registry), "--connectors", str(CONNECTORS))
    (pair,) = json.loads(CliRunner().invoke(app, ["resolve", "queue", "--json"]).output)["pairs"]
    neither = CliRunner().invoke(app, ["resolve", "decide", str(pair["link"]), "--by", "clerk.li"])
    assert neither.exit_code == 2
    nobody = CliRunner().invoke(app, ["resolve", "decide", str(pair["link"]), "--match"])
    assert nobody.exit_code == 2
    assert "--by" in nobody.output


def test_an_officer_finds_a_wrong_link_undoes_it_and_a_clerk_links_it_again(registry: Path) -> None:
    invoke("ingest", "--feeds", str(registry), "--connectors", str(CONNECTORS))
    shown = invoke("resolve", "linked", SURE[0])
    found = re.search(r"pair (\d+): community:COM-1, weight [\d.]+, linked auto", shown)
    assert found, shown
    pair = found.group(1)
    undone = invoke("resolve", "undo", pair, "--by", "officer.zhao", "--reason", "not her: another 李娜")
    assert f"pair {pair}: undone by officer.zhao; 1 record withdrawn" in undone
    assert f"`credence resolve decide {pair} --match` relinks it" in undone
    assert "no row is linked to this subject" in invoke("resolve", "linked", SURE[0])
    assert "not her: another 李娜 " in invoke("resolve", "history", pair) + " "
    refused = CliRunner().invoke(app, ["resolve", "undo", pair, "--by", "officer.zhao", "--reason", "again"])
    assert refused.exit_code != 0
    assert "links nothing" in refused.output
    relinked = invoke("resolve", "decide", pair, "--match", "--by", "clerk.li")
    assert f"pair {pair}: match by clerk.li; its row applied (1)" in relinked
    assert "linked match" in invoke("resolve", "linked", SURE[0])
    missing = CliRunner().invoke(app, ["resolve", "undo", pair, "--by", "officer.zhao"])
    assert missing.exit_code != 0
    assert "--reason" in missing.output


def test_an_officer_merges_two_subjects_and_splits_them_again(registry: Path) -> None:
    invoke("ingest", "--feeds", str(registry), "--connectors", str(CONNECTORS))
    kept, absorbed = TWINS[0][0], TWINS[1][0]
    args = ["--ground", "duplicate", "--by", "officer.zhao", "--reason", "registered twice"]
    merged = invoke("resolve", "merge", kept, absorbed, *args)
    found = re.search(r"merge (\d+): subject \S+ into \S+ \(duplicate\) by officer.zhao; 2 records moved", merged)
    assert found, merged
    again = CliRunner().invoke(app, ["resolve", "merge", kept, absorbed, *args])
    assert again.exit_code != 0
    assert "split it first" in again.output
    split = invoke("resolve", "split", found.group(1), "--by", "officer.qian", "--reason", "two people")
    assert f"merge {found.group(1)} split by officer.qian: 2 records moved back" in split
    shown = invoke("resolve", "merges", absorbed)
    assert "merge" in shown
    assert "split" in shown
    assert "by officer.qian: two people" in shown
    assert kept not in merged + split + shown  # internal ids only, never the numbers
    wrong = CliRunner().invoke(
        app, ["resolve", "merge", kept, absorbed, "--ground", "twins", "--by", "x", "--reason", "y"]
    )
    assert wrong.exit_code == 2
