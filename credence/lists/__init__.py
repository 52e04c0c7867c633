"""Lists and measures: listings derived from deciding authorities' decisions; the catalogue of
measures that attach to them; the check at the point of service."""
