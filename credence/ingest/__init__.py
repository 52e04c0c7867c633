"""Agency feeds in, canonical records out: mapping files, readers, the loader and quarantine."""
