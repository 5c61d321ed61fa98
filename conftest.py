"""Keep ``python -m poisonlab`` out of doctest collection."""

collect_ignore = ["src/poisonlab/__main__.py"]
