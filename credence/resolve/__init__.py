"""Identity: which subject an identifier names.

Today an exact, checked ID number names one subject (``subjects``); record linkage and a
clerk's review of uncertain matches will live here too. Every other room asks this one.
"""

from credence.resolve.subjects import ensure, find, lookup, number_of

__all__ = ["ensure", "find", "lookup", "number_of"]
