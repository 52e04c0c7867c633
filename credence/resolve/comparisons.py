"""The linkage model's comparisons and blocking rules, as Splink 4 settings.

Each comparison has levels from the strongest agreement down; Splink learns how much each level
says (its m and u probabilities) and the waterfall of a link is one weight per comparison.

- **name**: the same characters (traditional and variant forms folded to simplified); the same
  pinyin (a homophone character, or a name in pinyin); surname and given name swapped (pinyin written
  given name first); one character different with the same surname (a typo); else.
- **birth date**: the same day; day and month transposed; the year one off; else.
- **address**: the same district and street; the same street elsewhere (a street name repeats
  across districts, so this says little); the same district; else.
- **phone**: the same number; one digit different; else.

A missing value on either side is the null level of its comparison: it says nothing either way.
No weight is adjusted for how common a value is (Splink's term frequencies): they would be
learned from whatever the register holds at the time, so the same pair would weigh differently
from one day to the next. A common name (many people are called 张伟) is handled by the margin
instead: a row two residents fit about as well is never linked by itself (``linkage.outcome``).
Blocking: only pairs sharing a birth date, a phone, or a name's pinyin with a district or a
birth year are compared (``BLOCKING``); a pair no rule brings together is never a link.
"""

from typing import Any

NAME, BIRTH_DATE, ADDRESS, PHONE = "name", "birth_date", "address", "phone"
COMPARISONS = (NAME, BIRTH_DATE, ADDRESS, PHONE)

# (columns that must be equal) per blocking rule
BLOCKING: tuple[tuple[str, ...], ...] = (
    ("birth_date",),
    ("phone",),
    ("name_pinyin", "district"),
    ("name_pinyin", "birth_year"),
)
# (columns) of the rules EM is trained on: each rule leaves the other comparisons free to learn
TRAINING: tuple[tuple[str, ...], ...] = (("birth_date",), ("name_pinyin",))


def _levels(name: str) -> list[Any]:  # Any: Splink's comparison-level creators
    import splink.comparison_level_library as cll

    custom = cll.CustomLevel
    if name == NAME:
        return [
            cll.NullLevel("name_norm"),
            custom("name_norm_l = name_norm_r", label_for_charts="same characters"),
            custom("name_pinyin_l = name_pinyin_r", label_for_charts="same pinyin (homophone or variant)"),
            custom(
                "name_pinyin_l = name_swapped_r OR name_swapped_l = name_pinyin_r",
                label_for_charts="surname and given name swapped",
            ),
            custom(
                "surname_l = surname_r AND length(name_norm_l) = length(name_norm_r)"
                " AND levenshtein(name_norm_l, name_norm_r) = 1",
                label_for_charts="one character different",
            ),
            cll.ElseLevel(),
        ]
    if name == BIRTH_DATE:
        return [
            cll.NullLevel("birth_date"),
            custom("birth_date_l = birth_date_r", label_for_charts="same date"),
            custom(
                "birth_year_l = birth_year_r AND birth_month_l = birth_day_r AND birth_day_l = birth_month_r",
                label_for_charts="day and month transposed",
            ),
            custom(
                "abs(birth_year_l - birth_year_r) = 1 AND birth_month_l = birth_month_r AND birth_day_l = birth_day_r",
                label_for_charts="year one off",
            ),
            cll.ElseLevel(),
        ]
    if name == ADDRESS:
        return [
            custom(
                "(district_l IS NULL AND street_l IS NULL) OR (district_r IS NULL AND street_r IS NULL)",
                label_for_charts="address missing",
            ).configure(is_null_level=True),
            custom("district_l = district_r AND street_l = street_r", label_for_charts="same district and street"),
            custom("street_l = street_r", label_for_charts="same street, another district"),
            custom("district_l = district_r", label_for_charts="same district"),
            cll.ElseLevel(),
        ]
    if name == PHONE:
        return [
            cll.NullLevel("phone"),
            custom("phone_l = phone_r", label_for_charts="same number"),
            # random pairs one digit apart are too rare for u to be estimated: 11 digits, one
            # changed, out of ~10^8 numbers in use in a city
            custom("levenshtein(phone_l, phone_r) = 1", label_for_charts="one digit different").configure(
                u_probability=1e-6
            ),
            cll.ElseLevel(),
        ]
    raise ValueError(f"no comparison {name!r}")


def comparisons() -> list[Any]:  # Any: Splink's CustomComparison
    import splink.comparison_library as cl

    return [cl.CustomComparison(output_column_name=name, comparison_levels=_levels(name)) for name in COMPARISONS]


def block(columns: tuple[str, ...]) -> Any:  # Any: Splink's blocking-rule creator
    from splink import block_on

    return block_on(*columns)


def settings(*, probability_two_random_records_match: float = 1e-4) -> Any:  # Any: Splink's SettingsCreator
    """Untrained settings: what ``credence resolve train`` starts EM from."""
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=[block(rule) for rule in BLOCKING],
        probability_two_random_records_match=probability_two_random_records_match,
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=False,
        em_convergence=0.001,
        max_iterations=25,
    )
