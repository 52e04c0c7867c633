"""Legal profiles: each check with a rulebook that passes it and one that fails it, the message
asserted; the shipped rulebooks under the shipped profiles; a bad profile refused with file and
field. Failing rulebooks are the shipped ones with one small edit, made here in code."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any

import pytest
import yaml

from credence.exc import RulebookError
from credence.lists.measures import default_measures
from credence.model.catalogue import Catalogue, load_catalogue
from credence.rules import profiles
from credence.rules.checks import CHECKS, MeasureLike
from credence.rules.lint import Violation, declared, lint
from credence.rules.loader import LoadedRulebook, load_text, shipped

TODAY = date(2026, 12, 2)
NATIONAL, RONGCHENG, SUZHOU = "national-defaulters/2017", "rongcheng-credit/1.0", "suzhou-osmanthus/1.0"
Edit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Measure:
    """A catalogue measure as a check sees it (rules.checks.MeasureLike)."""

    id: str
    effect: str
    context: str
    legal_basis: str = "a statute, Art. 1"
    lists: frozenset[str] = frozenset()
    grades: Mapping[str, frozenset[str]] = field(default_factory=dict)


def source(name: str) -> dict[str, Any]:
    scheme, version = name.split("/")
    text = resources.files("credence.rules.rulebooks").joinpath(scheme, f"{version}.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def book(name: str, edit: Edit | None = None, *, catalogue: Catalogue | None = None) -> LoadedRulebook:
    data = source(name)
    if edit:
        edit(data)
    return load_text(yaml.safe_dump(data, allow_unicode=True), file=f"{name}.yaml", catalogue=catalogue)


def violations(
    name: str,
    profile: str,
    edit: Edit | None = None,
    *,
    measures: tuple[MeasureLike, ...] | None = None,
    catalogue: Catalogue | None = None,
    today: date = TODAY,
) -> list[Violation]:
    loaded = book(name, edit, catalogue=catalogue)
    return lint(
        loaded,
        [profiles.named(profile)],
        measures=default_measures() if measures is None else measures,
        today=today,
        catalogue=catalogue,
    )


def lines(found: list[Violation]) -> list[str]:
    return [v.line() for v in found]


def rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in data["rules"] if r["id"] == rule_id)
    return found


def listing(data: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = data["lists"][0]
    return found


def catalogue_with(old: str, new: str) -> Catalogue:
    text = resources.files("credence.catalogue").joinpath("record_kinds.yaml").read_text("utf-8")
    assert old in text
    return load_catalogue(text.replace(old, new))


# --- EU AI Act, Art. 5(1)(c): same_context


def test_rongcheng_fails_the_eu_profile_social_scoring_across_contexts() -> None:
    found = violations(RONGCHENG, "eu-ai-act")
    assert [v.where for v in found] == [
        "rule contract-breach-judgment",
        "rule bank-arrears",
        "rule court-debt-default",
        "rule traffic-ticket",
    ]
    assert lines(found)[3] == (
        "rongcheng-credit/1.0.yaml: rule traffic-ticket: eu-ai-act/social-scoring (EU AI Act, Art. 5(1)(c)): "
        "records of context transport drive rongcheng-deposit-waiver (context civic) through grade AAA: "
        "social scoring across unrelated contexts"
    )
    assert "rongcheng-credit/1.0.yaml: rule heroic-act" not in "".join(lines(found))  # civic drives civic


def test_a_score_whose_records_share_the_rewards_context_passes_the_eu_profile() -> None:
    def civic_only(data: dict[str, Any]) -> None:
        data["rules"] = [rule(data, "heroic-act")]

    assert violations(RONGCHENG, "eu-ai-act", civic_only) == []


def test_a_redlist_reward_counts_as_driven_by_the_score() -> None:
    reward = Measure("green-channel", "reward", "civic", lists=frozenset({"rongcheng-trustworthy"}))
    found = violations(RONGCHENG, "eu-ai-act", measures=(reward,))
    assert "through redlist rongcheng-trustworthy (grades AAA)" in found[0].message


def test_a_list_is_a_decision_not_a_score_under_the_eu_profile() -> None:
    assert violations(NATIONAL, "eu-ai-act") == []


# --- GDPR, Art. 22: human_decision_for_legal_effect


def test_a_measure_with_legal_effect_from_a_grade_fails_gdpr() -> None:
    notice = Measure("low-grade-notice", "notice", "civic", grades={"rongcheng-credit": frozenset({"D"})})
    found = violations(RONGCHENG, "gdpr", measures=(*default_measures(), notice))
    assert lines(found) == [
        "rongcheng-credit/1.0.yaml: measure low-grade-notice: gdpr/automated-decision (GDPR, Art. 22(1)): "
        "low-grade-notice (notice) follows from grade D, computed without a deciding authority's decision "
        "or a human review step"
    ]


def test_a_restriction_on_a_redlist_fails_gdpr() -> None:
    ban = Measure("redlist-only-loans", "restrict", "financial", lists=frozenset({"rongcheng-trustworthy"}))
    found = violations(RONGCHENG, "gdpr", measures=(ban,))
    assert [v.message for v in found] == [
        "redlist-only-loans (restrict) follows from redlist rongcheng-trustworthy (grades AAA), computed "
        "without a deciding authority's decision or a human review step"
    ]


def test_a_list_made_from_records_that_are_no_ones_decision_fails_gdpr() -> None:
    def from_fare_evasion(data: dict[str, Any]) -> None:  # every fare dodger listed, with no one deciding
        listing(data).update(
            decision_kind="fare_evasion", key="train_number", ground="train_number", court="train_number"
        )
        listing(data)["excluded_when"] = None
        listing(data)["durations"] = [{"when": "TRUE", "term": {"years": 1}}]
        listing(data)["extension"] = None
        listing(data)["binds"] = []

    found = violations(NATIONAL, "gdpr", from_fare_evasion)
    on_the_list = [
        m
        for m in default_measures()
        if m.effect in ("restrict", "notice") and "dishonest-judgment-defaulters" in m.lists
    ]
    assert len(found) == len(on_the_list)
    assert found[0].line() == (
        "national-defaulters/2017.yaml: measure no-flights: gdpr/automated-decision (GDPR, Art. 22(1)): "
        "no-flights (restrict) follows from list dishonest-judgment-defaulters (from fare_evasion records, "
        "which are no one's decision), computed without a deciding authority's decision or a human review step"
    )


def test_a_measure_on_a_list_and_a_grade_is_checked_on_both() -> None:
    both = Measure(
        "both",
        "notice",
        "civic",
        legal_basis="none",
        lists=frozenset({"dishonest-judgment-defaulters"}),
        grades={"national-defaulters": frozenset({"D"})},
    )
    assert [v.message for v in violations(NATIONAL, "gdpr", measures=(both,))] == [
        "both (notice) follows from grade D, computed without a deciding authority's decision or a human review step"
    ]
    assert [v.where for v in violations(NATIONAL, "credence", measures=(both,))] == ["measure both"]  # once


def test_restrictions_from_a_court_decision_and_rewards_from_a_grade_pass_gdpr() -> None:
    assert violations(NATIONAL, "gdpr") == []
    assert violations(RONGCHENG, "gdpr") == []


# --- FCRA-style obsolescence


def test_an_adverse_record_counted_past_seven_years_fails_fcra() -> None:
    def eight_years(data: dict[str, Any]) -> None:
        rule(data, "bank-arrears")["expires_after"] = {"years": 8}

    def forever(data: dict[str, Any]) -> None:
        del rule(data, "bank-arrears")["expires_after"]

    assert lines(violations(RONGCHENG, "fcra", eight_years)) == [
        "rongcheng-credit/1.0.yaml: rule bank-arrears: fcra/obsolescence (FCRA, 15 U.S.C. § 1681c(a)): "
        "an adverse record counts for 8 years; the limit is 7 years"
    ]
    assert [v.message for v in violations(RONGCHENG, "fcra", forever)] == [
        "an adverse record counts without end (no expires_after); the limit is 7 years"
    ]


def test_adverse_records_within_seven_years_pass_fcra() -> None:
    def seven_years(data: dict[str, Any]) -> None:
        rule(data, "bank-arrears")["expires_after"] = {"years": 7}

    assert violations(RONGCHENG, "fcra", seven_years) == []
    assert violations(SUZHOU, "fcra") == []  # blood and volunteering never expire: they are not adverse


def test_a_bankruptcy_counts_for_ten_years() -> None:
    catalogue = catalogue_with(
        "  bank_arrears:\n",
        "  bankruptcy:\n    title: Declared bankrupt\n    polarity: adverse\n    context: financial\n"
        "    attributes:\n      case_number: {type: str, required: true}\n  bank_arrears:\n",
    )

    def bankruptcy(years: int) -> Edit:
        def edit(data: dict[str, Any]) -> None:
            data["rules"].append(
                {
                    "id": "bankruptcy",
                    "title": "Bankruptcy",
                    "kinds": ["bankruptcy"],
                    "points": -100,
                    "expires_after": {"years": years},
                    "legal_basis": "a statute",
                }
            )

        return edit

    assert violations(RONGCHENG, "fcra", bankruptcy(10), catalogue=catalogue) == []
    assert [v.message for v in violations(RONGCHENG, "fcra", bankruptcy(11), catalogue=catalogue)] == [
        "an adverse record counts for 11 years; the limit is 10 years"
    ]


def test_a_listing_without_end_fails_fcra_and_one_within_seven_years_passes() -> None:
    assert lines(violations(NATIONAL, "fcra")) == [
        "national-defaulters/2017.yaml: list dishonest-judgment-defaulters: fcra/obsolescence "
        "(FCRA, 15 U.S.C. § 1681c(a)): an adverse record counts until a deletion event, with no end date "
        "(listings where ground = 1); the limit is 7 years"
    ]

    def four_years(data: dict[str, Any]) -> None:
        listing(data)["durations"][0]["term"] = {"years": 4}  # + 3 years of extension = 7

    def five_years(data: dict[str, Any]) -> None:
        listing(data)["durations"][0]["term"] = {"years": 5}

    assert violations(NATIONAL, "fcra", four_years) == []
    assert [v.message for v in violations(NATIONAL, "fcra", five_years)] == [
        "an adverse record counts for up to 8 years with extensions (listings where ground = 1); the limit is 7 years"
    ]


# --- SPC Fa Shi [2017] No. 7


def test_the_national_list_passes_the_spc_profile() -> None:
    assert violations(NATIONAL, "spc-2017") == []


def test_a_list_that_takes_minors_fails_art_4() -> None:
    def sixteen(data: dict[str, Any]) -> None:
        listing(data)["min_age"] = 16

    assert lines(violations(NATIONAL, "spc-2017", sixteen)) == [
        "national-defaulters/2017.yaml: list dishonest-judgment-defaulters: spc-2017/no-minors "
        "(SPC Fa Shi [2017] No. 7, Art. 4): the list takes people from age 16; minors (under 18) are never listed"
    ]


def test_a_missing_art_3_exclusion_fails() -> None:
    def two_of_three(data: dict[str, Any]) -> None:
        listing(data)["excluded_when"] = "ground = 1 AND (full_security OR seized_property_covers)"

    def none(data: dict[str, Any]) -> None:
        del listing(data)["excluded_when"]

    assert lines(violations(NATIONAL, "spc-2017", two_of_three)) == [
        "national-defaulters/2017.yaml: list dishonest-judgment-defaulters: spc-2017/exclusions "
        "(SPC Fa Shi [2017] No. 7, Art. 3): a ground-1 decision with not_yet_due is not excluded"
    ]
    assert len(violations(NATIONAL, "spc-2017", none)) == 3


def test_exclusions_are_evaluated_not_read_as_text() -> None:
    def rewritten(data: dict[str, Any]) -> None:  # the same exclusion, said another way
        listing(data)["excluded_when"] = (
            "CASE WHEN ground <> 1 THEN FALSE ELSE coalesce(full_security, FALSE) OR "
            "coalesce(seized_property_covers, FALSE) OR coalesce(not_yet_due, FALSE) END"
        )

    assert violations(NATIONAL, "spc-2017", rewritten) == []


def test_wrong_terms_fail_art_2() -> None:
    def three_years(data: dict[str, Any]) -> None:
        listing(data)["durations"][1]["term"] = {"years": 3}

    def ground_one_ends(data: dict[str, Any]) -> None:
        listing(data)["durations"][0]["term"] = {"years": 2}

    def two_extensions(data: dict[str, Any]) -> None:
        listing(data)["extension"]["times"] = 2

    def ground_six_missing(data: dict[str, Any]) -> None:
        listing(data)["durations"][1]["when"] = "ground BETWEEN 2 AND 5"

    found = violations(NATIONAL, "spc-2017", three_years)
    assert [v.message for v in found] == [f"ground {g}: lists for 3 years, expected 2 years" for g in range(2, 7)]
    prefix = "national-defaulters/2017.yaml: list dishonest-judgment-defaulters: spc-2017/durations (SPC Fa Shi"
    assert found[0].line() == f"{prefix} [2017] No. 7, Art. 2): ground 2: lists for 3 years, expected 2 years"
    assert [v.message for v in violations(NATIONAL, "spc-2017", ground_one_ends)] == [
        "ground 1: lists for 2 years, expected no end date until deletion"
    ]
    assert [v.message for v in violations(NATIONAL, "spc-2017", two_extensions)] == [
        "ground extension: lists for up to 6 years, expected at most 3 years"
    ]
    assert [v.message for v in violations(NATIONAL, "spc-2017", ground_six_missing)] == [
        "ground 6: lists for no end date until deletion, expected 2 years"
    ]


def test_an_ending_record_that_cannot_say_a_deletion_ground_fails_art_10() -> None:
    catalogue = catalogue_with("not_enforced, terminated, wrongful]", "not_enforced, wrongful]")
    assert lines(violations(NATIONAL, "spc-2017", catalogue=catalogue)) == [
        "national-defaulters/2017.yaml: list dishonest-judgment-defaulters: spc-2017/deletion-grounds "
        "(SPC Fa Shi [2017] No. 7, Art. 10): an ending record (defaulter_deletion) cannot record the "
        "deletion ground terminated"
    ]


def test_a_city_scheme_has_no_list_for_the_spc_profile_to_check() -> None:
    assert violations(RONGCHENG, "spc-2017") == []


# --- Credence's own


def test_none_published_is_no_legal_basis() -> None:
    found = violations(SUZHOU, "credence")
    assert [v.where for v in found] == ["rulebook"] + [f"rule {r['id']}" for r in source(SUZHOU)["rules"]]
    assert lines(found)[1] == (
        "suzhou-osmanthus/1.0.yaml: rule blood-donation: credence/legal-basis (Credence DESIGN P5): "
        "the rule has no legal basis (legal_basis: 'none published')"
    )


def test_every_part_with_a_legal_basis_passes_and_a_measure_without_one_fails() -> None:
    assert violations(NATIONAL, "credence") == []
    assert violations(RONGCHENG, "credence") == []
    bare = Measure("bare", "reward", "civic", legal_basis="n/a", grades={"rongcheng-credit": frozenset({"AAA"})})
    assert [(v.where, v.message) for v in violations(RONGCHENG, "credence", measures=(bare,))] == [
        ("measure bare", "the measure has no legal basis (legal_basis: 'n/a')")
    ]


def test_a_draft_that_would_take_effect_before_today_fails() -> None:
    def draft(effective: str) -> Edit:
        def edit(data: dict[str, Any]) -> None:
            data["status"] = "draft"
            data["effective_from"] = date.fromisoformat(effective)

        return edit

    assert lines(violations(RONGCHENG, "credence", draft("2026-12-01"))) == [
        "rongcheng-credit/1.0.yaml: rulebook: credence/no-retroactive-effect (Credence DESIGN P5): a draft "
        "effective from 2026-12-01, before today (2026-12-02), would reach back when published"
    ]
    assert violations(RONGCHENG, "credence", draft("2026-12-02")) == []
    assert violations(RONGCHENG, "credence", draft("2027-01-01")) == []


def test_an_unbounded_deduction_needs_a_cap() -> None:
    def per_yuan(data: dict[str, Any]) -> None:
        rule(data, "bank-arrears")["points"] = "0 - floor_div(amount_yuan, 1000)"

    def capped(data: dict[str, Any]) -> None:
        per_yuan(data)
        rule(data, "bank-arrears")["cap"] = {"max": 100}

    assert lines(violations(RONGCHENG, "credence", per_yuan)) == [
        "rongcheng-credit/1.0.yaml: rule bank-arrears: credence/bounded-adverse-rules (Credence DESIGN R3): "
        "the points a record takes away have no least value, and no cap bounds them"
    ]
    assert violations(RONGCHENG, "credence", capped) == []
    assert not [v for v in violations(SUZHOU, "credence") if v.check == "bounded-adverse-rules"]


def test_a_deduction_bounded_by_the_catalogue_needs_no_cap() -> None:
    def per_day(data: dict[str, Any]) -> None:  # detention_days is 0..20 in the catalogue
        rule(data, "public-order-offence")["points"] = "-3 * detention_days - 8"

    assert not [v for v in violations(SUZHOU, "credence", per_day) if v.check == "bounded-adverse-rules"]


# --- the shipped rulebooks and profiles


def test_every_shipped_rulebook_passes_the_profiles_it_names() -> None:
    for loaded in shipped():
        assert loaded.book.profiles, loaded.file
        assert lint(loaded, declared(loaded), measures=default_measures(), today=TODAY) == [], loaded.file


def test_the_shipped_rulebooks_fail_what_their_notes_say() -> None:
    failing = {
        (loaded.book.scheme, name)
        for loaded in shipped()
        for name in profiles.shipped()
        if lint(loaded, [profiles.named(name)], measures=default_measures(), today=TODAY)
    }
    assert failing == {
        ("civil-aviation-bans", "spc-2017"),  # not a court's list: the SPC's rules are not its law
        ("national-defaulters", "fcra"),
        ("rongcheng-credit", "eu-ai-act"),
        ("suzhou-osmanthus", "credence"),
    }


def test_the_shipped_profiles_use_every_check_function_and_cite_an_article() -> None:
    used = {check.spec.check for profile in profiles.shipped().values() for check in profile.checks}
    assert used == set(CHECKS)
    assert set(profiles.shipped()) == {"eu-ai-act", "gdpr", "fcra", "spc-2017", "credence"}


# --- a bad profile is refused with its file and field

PROFILE = """\
name: demo
title: Demo
checks:
  - id: limit
    article: FCRA, 15 U.S.C. § 1681c(a)
    check: obsolescence
    params: {years: 7}
    message: counts {counts}
"""


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("check: obsolescence", "check: nonesuch", "demo.yaml: checks.0.check: unknown check function 'nonesuch'"),
        ("{years: 7}", "{years: 0}", "demo.yaml: checks.0.params.years: Input should be greater than 0"),
        ("{years: 7}", "{months: 7}", "demo.yaml: checks.0.params.months: Extra inputs are not permitted"),
        ("counts {counts}", "counts {days}", "demo.yaml: checks.0.message: obsolescence has no field {days}"),
        ("    article: FCRA, 15 U.S.C. § 1681c(a)\n", "", "demo.yaml: checks.0.article: Field required"),
        ("name: demo", "name: Demo Profile", "demo.yaml: name: String should match pattern"),
    ],
)
def test_a_bad_profile_is_refused_naming_file_and_field(old: str, new: str, error: str) -> None:
    assert old in PROFILE
    with pytest.raises(RulebookError) as refused:
        profiles.load_text(PROFILE.replace(old, new), file="demo.yaml")
    assert str(refused.value).startswith(error), str(refused.value)


def test_a_good_profile_file_loads_and_an_unknown_name_is_refused() -> None:
    assert profiles.load_text(PROFILE, file="demo.yaml").checks[0].spec.id == "limit"
    with pytest.raises(RulebookError, match="unknown legal profile 'eu'; expected one of credence, eu-ai-act"):
        profiles.named("eu")


def test_a_rulebook_naming_an_unknown_profile_is_refused_by_lint_not_by_load() -> None:
    def typo(data: dict[str, Any]) -> None:
        data["profiles"] = ["gdpr", "eu-ai"]

    loaded = book(RONGCHENG, typo)
    with pytest.raises(RulebookError) as refused:
        declared(loaded)
    assert str(refused.value) == (
        "rongcheng-credit/1.0.yaml: profiles: unknown legal profile 'eu-ai'; "
        "expected one of credence, eu-ai-act, fcra, gdpr, spc-2017"
    )


def test_loading_does_not_lint() -> None:
    def lawless(data: dict[str, Any]) -> None:
        data["profiles"] = ["credence", "eu-ai-act"]
        data["legal_basis"] = "none"

    loaded = book(RONGCHENG, lawless)  # loads and would score; only lint refuses it
    assert {v.profile for v in lint(loaded, declared(loaded), measures=default_measures(), today=TODAY)} == {
        "credence",
        "eu-ai-act",
    }
