"""The what-if's pure parts: age bands on a birthday, and the histogram's bins."""

from datetime import date

from credence.pipeline.simulate import Bin, age_band, histogram


def test_an_age_band_changes_on_the_birthday_not_before() -> None:
    day = date(2026, 11, 27)
    assert age_band(date(2008, 11, 28), as_of=day) == "<18"
    assert age_band(date(2008, 11, 27), as_of=day) == "18-29"
    assert age_band(date(1966, 11, 28), as_of=day) == "45-59"
    assert age_band(date(1966, 11, 27), as_of=day) == "60+"
    assert age_band(None, as_of=day) == "no birth date"


def test_a_histogram_has_at_most_twenty_equal_bins_covering_every_change() -> None:
    assert histogram([]) == []
    assert histogram([-3, -3]) == [Bin(low=-3, high=-3, subjects=2)]
    assert histogram([-2, 0, 1, 1]) == [Bin(-2, -2, 1), Bin(-1, -1, 0), Bin(0, 0, 1), Bin(1, 1, 2)]
    wide = histogram(list(range(-50, 50)))  # 100 values, 5 points a bin
    assert len(wide) == 20
    assert (wide[0], wide[-1]) == (Bin(-50, -46, 5), Bin(45, 49, 5))
    assert sum(b.subjects for b in histogram([-7, 93, 500])) == 3
