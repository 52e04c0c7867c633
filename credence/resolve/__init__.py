"""Identity: which subject an identifier names.

An exact, checked ID number names one subject (``subjects``); rows without one are linked by
record linkage (``linkage``, ``links``) and a clerk's review (``review``: judgements, undoing a
link), and two subjects found to be one person are merged and split (``merges``). Every other
room asks this one.
"""

from credence.resolve.subjects import ensure, find, lookup, number_of

__all__ = ["ensure", "find", "lookup", "number_of"]
