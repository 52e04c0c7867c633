"""Credence: an accountable social credit registry.

Records are append-only facts; scores, grades, listings and measures are derived from them by
versioned rulebooks compiled to SQL, and every number can be explained.
"""

__version__ = "0.1.0"
