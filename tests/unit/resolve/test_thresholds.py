"""The doubt band: a link applies above it, waits for a clerk inside it, and nothing links below."""

import pytest

from credence.resolve.linkage import Outcome, outcome
from credence.resolve.model_files import Thresholds

BAND = Thresholds(auto=15.0, review=4.0, margin=5.0)


@pytest.mark.parametrize(
    ("weight", "margin", "expected"),
    [
        (15.01, None, Outcome.AUTO),  # just above the band, no other candidate
        (15.0, 5.0, Outcome.AUTO),  # on the line, clear by exactly the margin
        (14.99, None, Outcome.REVIEW),  # just inside
        (30.0, 4.99, Outcome.REVIEW),  # strong, but another candidate is nearly as strong (two 张伟)
        (4.0, None, Outcome.REVIEW),  # the band's floor
        (3.99, None, Outcome.UNLINKED),  # just below
        (None, None, Outcome.UNLINKED),  # no pair at all
    ],
)
def test_outcome_of_a_weight(weight: float | None, margin: float | None, expected: Outcome) -> None:
    assert outcome(weight, margin, BAND) is expected


def test_thresholds_refuse_a_band_upside_down() -> None:
    with pytest.raises(ValueError, match="review <= auto"):
        Thresholds(auto=3.0, review=4.0, margin=1.0)
