"""check() knows its vocabulary: the attributes a request may carry and their values come from
the measure catalogue; anything else is refused naming the attribute and what is allowed, the
same way for a listed and an unlisted subject. A measure may only restrict what the vocabulary
lets a request say: the catalogue is refused otherwise."""

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Connection, Engine

from credence.exc import FieldError
from credence.lists.measures import CatalogueError, Request, default_requests, load_measures, load_requests
from credence.screening.check import check
from tests.common.feeds import listed_debtor, person_id

DEBTOR = person_id(date(1981, 3, 9), seq=411)
STRANGER = person_id(date(1990, 1, 1), seq=5)
AT = datetime(2026, 1, 10, 4, 0, tzinfo=UTC)
SHIPPED = resources.files("credence.catalogue").joinpath("measures.yaml").read_text("utf-8")
VOCABULARY = default_requests()
CREDENCE = Path(sys.executable).parent / "credence"


@pytest.fixture
def conn(engine: Engine, tmp_path: Any) -> Iterator[Connection]:
    """A registry where DEBTOR is a listed defaulter (ground 1: no end) and STRANGER is unknown."""
    listed_debtor(engine, tmp_path, DEBTOR)
    with engine.connect() as connection:
        yield connection


def minimal(request: Request) -> dict[str, str]:
    """A valid request: each required attribute with its first value."""
    return {a.name: next(iter(a.values.values())) for a in request.attributes.values() if a.required and a.values}


def every_value() -> list[tuple[str, str, str]]:
    return [
        (action, name, value)
        for action, request in VOCABULARY.items()
        for name, attribute in request.attributes.items()
        for value in (attribute.values or {}).values()
    ]


def test_the_vocabulary_has_what_real_points_of_service_say() -> None:
    rail = VOCABULARY["rail_ticket"].attributes
    assert set(rail["train_type"].values or {}) >= {"g", "d", "c", "z", "t", "k"}
    assert set(rail["seat_class"].values or {}) >= {
        "business",
        "premium",
        "first",
        "second",
        "hard_seat",
        "soft_seat",
        "hard_sleeper",
        "soft_sleeper",
        "no_seat",
    }
    assert VOCABULARY["rail_ticket"].required == ("train_type", "seat_class")
    assert "berth" in rail
    assert set(VOCABULARY["venue"].attributes["star_rating"].values or {}) >= {"1", "5"}
    assert "fee_band" in VOCABULARY["school_fees"].attributes
    assert "seat_class" in VOCABULARY["ship_ticket"].attributes
    assert VOCABULARY["flight"].required == ()


def test_every_value_in_the_vocabulary_is_accepted(conn: Connection) -> None:
    values = every_value()
    assert len(values) > 50
    for action, name, value in values:
        for spelled in (value, value.upper(), f" {value.lower()} "):
            request = {**minimal(VOCABULARY[action]), name: spelled}
            for who in (DEBTOR, STRANGER):
                assert check(conn, who, action, request, at=AT).outcome in {"allowed", "restricted"}
    for action, request in VOCABULARY.items():  # and every action with only what it requires
        assert check(conn, STRANGER, action, minimal(request), at=AT).outcome == "allowed"


@pytest.mark.parametrize(
    ("action", "request_", "field", "named"),
    [
        ("rail_ticket", {"train_type": "X", "seat_class": "second"}, "attributes.train_type", "'X'"),
        ("rail_ticket", {"train_type": "G", "seat_class": "banana"}, "attributes.seat_class", "'banana'"),
        ("rail_ticket", {"train_type": "K", "seat_class": "hard_sleeper", "berth": "top"}, "attributes.berth", "'top'"),
        ("venue", {"venue_type": "hotel", "star_rating": "6"}, "attributes.star_rating", "'6'"),
        ("ship_ticket", {"seat_class": "economy"}, "attributes.seat_class", "'economy'"),
        ("vehicle_purchase", {"business_need": "maybe"}, "attributes.business_need", "'maybe'"),
    ],
)
def test_a_value_outside_the_vocabulary_is_refused_naming_the_allowed_values(
    conn: Connection, action: str, request_: dict[str, str], field: str, named: str
) -> None:
    attribute = VOCABULARY[action].attributes[field.removeprefix("attributes.")]
    refusals = []
    for who in (DEBTOR, STRANGER):
        with pytest.raises(FieldError) as refused:
            check(conn, who, action, request_, at=AT)
        assert refused.value.field == field
        assert named in refused.value.reason
        assert f"expected one of {', '.join((attribute.values or {}).values())}" in refused.value.reason
        refusals.append(refused.value.detail)
    assert refusals[0] == refusals[1]  # the error tells a provider nothing about who is registered


@pytest.mark.parametrize(
    ("action", "request_", "name", "allowed"),
    [
        (
            "rail_ticket",
            {"train_type": "G", "seat_class": "second", "colour": "red"},
            "colour",
            "train_type, seat_class",
        ),
        ("rail_ticket", {"train_type": "G", "seat_class": "second", "Seat_Class": "first"}, "Seat_Class", "berth"),
        ("flight", {"meal": "vegan"}, "meal", "cabin"),
        ("leisure_travel", {"destination": "Sanya"}, "destination", "; it takes none"),
    ],
)
def test_an_unknown_attribute_is_refused_naming_the_allowed_ones(
    conn: Connection, action: str, request_: dict[str, str], name: str, allowed: str
) -> None:
    refusals = []
    for who in (DEBTOR, STRANGER):
        with pytest.raises(FieldError) as refused:
            check(conn, who, action, request_, at=AT)
        assert refused.value.field == f"attributes.{name}"
        assert f"no attribute {name!r}" in refused.value.reason
        assert allowed in refused.value.reason
        refusals.append(refused.value.detail)
    assert refusals[0] == refusals[1]


def test_values_are_matched_as_the_catalogue_spells_them(conn: Connection) -> None:
    """A value in another case or with spaces is the same value: it cannot slip past a measure."""

    def outcome(action: str, request: dict[str, str]) -> str:
        return check(conn, DEBTOR, action, request, at=AT).outcome

    assert outcome("rail_ticket", {"train_type": " g ", "seat_class": "Second"}) == "restricted"
    assert outcome("rail_ticket", {"train_type": "k", "seat_class": "SOFT_SLEEPER", "berth": "lower"}) == "restricted"
    assert outcome("rail_ticket", {"train_type": "K", "seat_class": "hard_sleeper", "berth": "upper"}) == "allowed"
    assert outcome("rail_ticket", {"train_type": "D", "seat_class": "no_seat"}) == "allowed"
    assert outcome("venue", {"venue_type": "hotel", "star_rating": "5"}) == "restricted"
    assert outcome("venue", {"venue_type": "hotel", "star_rating": "none"}) == "allowed"
    assert outcome("school_fees", {"school_type": "private", "fee_band": "high"}) == "restricted"
    assert outcome("school_fees", {"school_type": "public", "fee_band": "ordinary"}) == "allowed"
    assert outcome("ship_ticket", {"seat_class": "third"}) == "allowed"
    assert outcome("ship_ticket", {"seat_class": "Second"}) == "restricted"


def edited(edit: Callable[[dict[str, Any]], None]) -> str:
    data = yaml.safe_load(SHIPPED)
    edit(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def measure(data: dict[str, Any], ident: str) -> dict[str, Any]:
    found: dict[str, Any] = next(m for m in data["measures"] if m["id"] == ident)
    return found


def test_the_shipped_catalogue_loads_with_its_vocabulary() -> None:
    assert load_requests(SHIPPED) == VOCABULARY
    assert {m.action for m in load_measures(SHIPPED)} <= set(VOCABULARY)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            lambda d: measure(d, "no-high-speed-rail")["restricts"].append({"train_type": ["X"]}),
            r"measure no-high-speed-rail: restricts train_type 'X', not a rail_ticket train_type .*values: G, D, C",
            id="value",
        ),
        pytest.param(
            lambda d: measure(d, "no-soft-sleeper").update(restricts=[{"carriage": ["soft"]}]),
            r"measure no-soft-sleeper: restricts attribute 'carriage'.*train_type, seat_class, berth",
            id="attribute",
        ),
        pytest.param(
            lambda d: measure(d, "no-flights").update(restricts=[{"cabin": ["first", "galley"]}]),
            r"measure no-flights: restricts cabin 'galley'",
            id="one-bad-value-among-good",
        ),
        pytest.param(
            lambda d: d["requests"]["venue"]["star_rating"].pop("required"),
            r"measure no-star-hotels-nightclubs-golf: reads attribute 'star_rating', which a venue request "
            r"need not carry; mark requests\.venue\.star_rating required: true",
            id="reads-an-optional-attribute",
        ),
        pytest.param(
            lambda d: measure(d, "no-flights").update(restricts=[{}, {"cabin": ["first"]}]),
            r"measure no-flights: reads attribute 'cabin', which a flight request need not carry",
            id="optional-attribute-beside-an-empty-clause",
        ),
        pytest.param(
            lambda d: d["requests"]["rail_ticket"]["train_type"].pop("values"),
            r"requests\.rail_ticket\.train_type\.values: expected a non-empty list",
            id="vocabulary-without-values",
        ),
        pytest.param(
            lambda d: d["requests"]["rail_ticket"]["seat_class"].update(required="yes please"),
            r"requests\.rail_ticket\.seat_class\.required: expected true or false",
            id="vocabulary-required-not-a-flag",
        ),
    ],
)
def test_a_catalogue_whose_measure_leaves_the_vocabulary_is_refused(
    edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    text = edited(edit)
    with pytest.raises(CatalogueError, match=message):
        load_measures(text)
    with pytest.raises(CatalogueError, match=message):
        load_requests(text)


def test_a_vocabulary_value_lets_a_measure_restrict_it(conn: Connection) -> None:
    """Adding a value to the vocabulary and a measure on it is an edit of the file, nothing else."""

    def add_z_trains(data: dict[str, Any]) -> None:
        measure(data, "no-high-speed-rail")["restricts"].append({"train_type": ["Z"], "seat_class": ["soft_seat"]})

    text = edited(add_z_trains)
    measures, requests = load_measures(text), load_requests(text)
    z_soft = {"train_type": "Z", "seat_class": "soft_seat"}
    assert check(conn, DEBTOR, "rail_ticket", z_soft, at=AT).outcome == "allowed"
    got = check(conn, DEBTOR, "rail_ticket", z_soft, at=AT, measures=measures, requests=requests)
    assert (got.outcome, got.measure) == ("restricted", "no-high-speed-rail")


def test_the_cli_refuses_nonsense_naming_the_attribute_and_the_allowed_values(engine: Engine, tmp_path: Any) -> None:
    """The issue's report, through the installed entry point: one line, exit 2, no traceback."""
    env = {**os.environ, "CREDENCE_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    env["COLUMNS"] = "400"  # keep Rich from wrapping the line

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own entry point, fixed arguments
            [str(CREDENCE), "check", STRANGER, *args], capture_output=True, text=True, env=env, timeout=120
        )

    for args, expected in (
        (
            ("rail_ticket", "train_type=X", "seat_class=second"),
            "'X' is not a rail_ticket train_type; expected one of G, D, C",
        ),
        (("rail_ticket", "train_type=G", "seat_class=second", "colour=red"), "no attribute 'colour'"),
    ):
        done = run(*args)
        assert done.returncode == 2, done.stdout + done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr  # one line, on stderr
        assert expected in done.stderr
        assert "Traceback" not in done.stdout + done.stderr
