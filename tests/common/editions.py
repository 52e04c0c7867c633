"""A scheme with three editions, for tests of what changes on an edition's effective date: the
shipped Suzhou-style 1.0; a pause with no score scale from 2023-01-01; and a 2.0 from 2024-07-01
with its own scale and grades, a yearly blood-donation cap, half a year's residence, and only
the Gusu district (320508) covered."""

from importlib import resources

from credence.rules.loader import Scheme, group, load_text

SUZHOU = resources.files("credence.rules.rulebooks").joinpath("suzhou-osmanthus/1.0.yaml").read_text("utf-8")

PAUSE = """scheme: suzhou-osmanthus
title: Suzhou-style points, suspended (test edition)
version: "1.5"
jurisdiction: "3205"
status: illustrative
effective_from: 2023-01-01
legal_basis: none published
"""


def _second() -> str:
    text = SUZHOU.replace('version: "1.0"', 'version: "2.0"')
    text = text.replace("effective_from: 2020-01-01", "effective_from: 2024-07-01")
    text = text.replace("residence_min_days: 365", "residence_min_days: 180")
    text = text.replace('jurisdiction: "3205"', 'jurisdiction: "320505"')
    text = text.replace("score: {base: 100, floor: 0, ceiling: 200}", "score: {base: 120, floor: 0, ceiling: 180}")
    bands = text[text.index("grades:") : text.index("rules:")]
    text = text.replace(
        bands,
        "grades:\n  - {grade: AAA, min: 150, max: 180}\n  - {grade: A, min: 110, max: 149}\n"
        "  - {grade: B, min: 60, max: 109}\n  - {grade: D, min: 0, max: 59}\n",
    )
    text = text.replace("cap: {max: 20, per: lifetime}", "cap: {max: 6, per: year}")
    return text


def three_editions() -> Scheme:
    books = [
        load_text(SUZHOU, file="suzhou-1.0.yaml"),
        load_text(PAUSE, file="suzhou-1.5.yaml"),
        load_text(_second(), file="suzhou-2.0.yaml"),
    ]
    return group(books)["suzhou-osmanthus"]
