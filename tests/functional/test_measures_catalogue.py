"""The measure catalogue is data: editing measures.yaml, and putting the edit in force (the
active-measures table is re-derived from the listings under it), changes what check() answers
for the same listed subject, without touching the listing."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine

from credence.exc import FieldError
from credence.lists import active
from credence.lists.measures import Measure, default_measures, default_requests, load_measures
from credence.screening.check import check
from tests.common.feeds import listed_debtor, person_id

DEBTOR = person_id(date(1981, 3, 9), seq=411)
AT = datetime(2026, 1, 10, 4, 0, tzinfo=UTC)
G_SECOND = {"train_type": "G", "seat_class": "second"}
D_FIRST = {"train_type": "D", "seat_class": "first"}
SHIPPED = resources.files("credence.catalogue").joinpath("measures.yaml").read_text("utf-8")


def edited(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> tuple[Measure, ...]:
    """A copy of the shipped catalogue, changed as an officer would change the file, and loaded."""
    data = yaml.safe_load(SHIPPED)
    edit(data)
    path = tmp_path / "measures.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_measures(path.read_text("utf-8"))


def in_force(engine: Engine, measures: tuple[Measure, ...], *, at: datetime) -> None:
    """Put ``measures`` in force at the transaction time ``at``, as a refresh under them would."""
    with engine.begin() as conn:
        active.refresh(conn, now=at, scope=None, measures=measures)


def entry(data: dict[str, Any], measure: str) -> dict[str, Any]:
    found: dict[str, Any] = next(m for m in data["measures"] if m["id"] == measure)
    return found


@pytest.fixture
def listed(engine: Engine, tmp_path: Path) -> Engine:
    # check() answers as the registry knew it at ``at``: the decision arrives before AT
    listed_debtor(engine, tmp_path, DEBTOR)
    return engine


def test_shipped_file_is_the_default_catalogue() -> None:
    assert load_measures(SHIPPED) == default_measures()


def test_narrowing_a_restriction_allows_what_it_no_longer_covers(listed: Engine, tmp_path: Path) -> None:
    def only_g_trains(data: dict[str, Any]) -> None:
        entry(data, "no-high-speed-rail")["restricts"] = [{"train_type": ["G"]}]

    narrowed = edited(tmp_path, only_g_trains)
    with listed.connect() as conn:
        shipped = check(conn, DEBTOR, "rail_ticket", D_FIRST, at=AT)
    in_force(listed, narrowed, at=AT + timedelta(minutes=1))
    with listed.connect() as conn:
        after = check(conn, DEBTOR, "rail_ticket", D_FIRST, at=AT + timedelta(minutes=2), measures=narrowed)
        g_train = check(conn, DEBTOR, "rail_ticket", G_SECOND, at=AT + timedelta(minutes=2), measures=narrowed)
    assert (shipped.outcome, shipped.measure) == ("restricted", "no-high-speed-rail")
    assert after.outcome == "allowed"
    assert after.measure is None
    assert (g_train.outcome, g_train.measure) == ("restricted", "no-high-speed-rail")


def test_removing_a_measure_or_detaching_it_from_the_list_lifts_it(listed: Engine, tmp_path: Path) -> None:
    def drop_flights(data: dict[str, Any]) -> None:
        data["measures"] = [m for m in data["measures"] if m["id"] != "no-flights"]

    def detach_flights(data: dict[str, Any]) -> None:
        entry(data, "no-flights")["attaches_to"] = {"lists": ["some-other-list"]}

    with listed.connect() as conn:
        assert check(conn, DEBTOR, "flight", {}, at=AT).outcome == "restricted"
    for hour, edit in enumerate((drop_flights, detach_flights), start=1):
        measures, at = edited(tmp_path, edit), AT + timedelta(hours=hour)
        in_force(listed, measures, at=at)
        with listed.connect() as conn:
            assert check(conn, DEBTOR, "flight", {}, at=at, measures=measures).outcome == "allowed"
            # the train restriction, untouched by either edit, still holds
            assert check(conn, DEBTOR, "rail_ticket", G_SECOND, at=at, measures=measures).outcome == "restricted"


def test_a_new_action_in_the_catalogue_is_restricted_with_its_legal_basis(listed: Engine, tmp_path: Path) -> None:
    basis = "A test regulation on cinemas, Art. 1"

    def add_cinema(data: dict[str, Any]) -> None:
        data["measures"].append(
            {
                "id": "no-premium-cinema",
                "title": "No premium cinema seats",
                "effect": "restrict",
                "action": "cinema",
                "restricts": [{"seat": ["vip"]}],
                "attaches_to": {"lists": ["dishonest-judgment-defaulters"]},
                "context": "consumption",
                "legal_basis": basis,
            }
        )

    extended = edited(tmp_path, add_cinema)
    with listed.connect() as conn, pytest.raises(FieldError, match="unknown action 'cinema'"):
        check(conn, DEBTOR, "cinema", {"seat": "VIP"}, at=AT)  # not in the shipped catalogue
    in_force(listed, extended, at=AT - timedelta(minutes=1))
    with listed.connect() as conn:
        vip = check(conn, DEBTOR, "cinema", {"seat": "VIP"}, at=AT, measures=extended)
        plain = check(conn, DEBTOR, "cinema", {"seat": "standard"}, at=AT, measures=extended)
        before_listing = check(
            conn, DEBTOR, "cinema", {"seat": "vip"}, at=datetime(2025, 5, 1, tzinfo=UTC), measures=extended
        )
        stranger = check(conn, person_id(date(1990, 1, 1), seq=5), "cinema", {"seat": "vip"}, at=AT, measures=extended)
    assert (vip.outcome, vip.measure, vip.legal_basis) == ("restricted", "no-premium-cinema", basis)
    assert vip.appeal is not None
    assert "(2025)苏05执321号" in vip.appeal
    assert plain.outcome == "allowed"
    assert before_listing.outcome == "allowed"
    assert stranger.outcome == "allowed"


def test_a_city_grade_cannot_carry_a_restriction(tmp_path: Path) -> None:
    def grade_restriction(data: dict[str, Any]) -> None:
        entry(data, "rongcheng-deposit-waiver")["effect"] = "restrict"

    with pytest.raises(ValueError, match=r"rongcheng-deposit-waiver.*rewards only"):
        edited(tmp_path, grade_restriction)


@pytest.mark.parametrize(
    ("action", "attributes", "field"),
    [
        ("rail_ticket", {"seat_class": "second"}, "attributes.train_type"),
        ("rail_ticket", {"train_type": "G", "seat_class": " "}, "attributes.seat_class"),
        ("venue", {}, "attributes.venue_type"),
        # the loophole the catalogue closed: without these the clause could not match, so allowed
        ("venue", {"venue_type": "hotel"}, "attributes.star_rating"),
        ("school_fees", {"school_type": "private"}, "attributes.fee_band"),
        ("flihgt", {}, "action"),
    ],
)
def test_a_request_that_cannot_be_decided_is_refused_for_everyone(
    listed: Engine, action: str, attributes: dict[str, str], field: str
) -> None:
    """A ticket without a train type must not read as "not a G train"; the refusal is the same
    for a listed debtor and for a stranger, so it reveals nothing."""
    stranger = person_id(date(1990, 1, 1), seq=5)
    with listed.connect() as conn:
        for who in (DEBTOR, stranger):
            with pytest.raises(FieldError) as refused:
                check(conn, who, action, attributes, at=AT)
            assert refused.value.field == field


def test_references_are_unique_and_do_not_encode_the_request(listed: Engine) -> None:
    with listed.connect() as conn:
        first = check(conn, DEBTOR, "flight", {}, at=AT)
        second = check(conn, DEBTOR, "flight", {}, at=AT)
    assert first.reference != second.reference


@pytest.mark.parametrize("measure", default_measures(), ids=lambda m: m.id)
def test_every_attribute_a_shipped_measure_reads_is_required_for_its_action(measure: Measure) -> None:
    """A request that may leave out an attribute a clause reads matches no clause: it would be
    allowed because the point of service said less."""
    request = default_requests()[measure.action]
    read = {name for clause in measure.restricts for name in clause}
    assert read <= set(request.required), f"{measure.id} reads {sorted(read - set(request.required))}"


def test_a_listed_debtor_cannot_book_a_hotel_by_leaving_out_its_star_rating(listed: Engine) -> None:
    with listed.connect() as conn:
        with pytest.raises(FieldError) as refused:
            check(conn, DEBTOR, "venue", {"venue_type": "hotel"}, at=AT)
        five_stars = check(conn, DEBTOR, "venue", {"venue_type": "hotel", "star_rating": "5"}, at=AT)
        unrated = check(conn, DEBTOR, "venue", {"venue_type": "hotel", "star_rating": "none"}, at=AT)
    assert refused.value.field == "attributes.star_rating"
    assert "a venue request must say its star_rating" in refused.value.reason
    assert (five_stars.outcome, five_stars.measure) == ("restricted", "no-star-hotels-nightclubs-golf")
    assert unrated.outcome == "allowed"
