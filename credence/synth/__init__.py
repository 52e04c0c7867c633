"""The synthetic city: a seeded population of people and companies, and each agency's feed about them.

``credence.synth.feeds.generate`` writes one feed file per agency (in that agency's own format,
with a few deliberately malformed, duplicated and amended rows) plus the generator's ground truth
(``people.csv``, ``organisations.csv``). The agencies' mapping files live in ``connectors/``.
"""
