"""Jobs that run the compiled rules in the store: rescoring and list refresh after records land."""
