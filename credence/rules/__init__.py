"""Rulebooks as data: YAML read by policy officers, checked at load, compiled to SQL.

Nothing here touches a database: rulebooks are pure data and pure functions that can be
replayed years later. Scores come only from executing the compiled SQL.
"""
